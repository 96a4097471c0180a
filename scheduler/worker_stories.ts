/**
 * The workers' part of a story: each connected worker is asked what its stimulus log holds
 * about some task keys, and its entries come back named with its address. A worker that does
 * not answer in time adds nothing (the story is what can be told now).
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import type { StoryEvent } from "../comm/protocol.ts";
import { withTimeout } from "../comm/handshake.ts";
import { WORKER_STORY_TIMEOUT } from "../comm/timeouts.ts";

/** Asks each of `workers` (address, connection) for its story of `keys`. */
export function workerStories(
  workers: Iterable<[string, Connection]>,
  keys: string[],
): Promise<StoryEvent[][]> {
  if (keys.length === 0) return Promise.resolve([]);
  return Promise.all(Array.from(workers, async ([address, conn]) => {
    try {
      const r = await withTimeout(
        conn.request({ op: "worker-story", id: 0, keys }),
        WORKER_STORY_TIMEOUT,
        `the story of ${address}`,
      );
      for (const e of r.events) e.worker = address;
      return r.events;
    } catch {
      return [];
    }
  }));
}
