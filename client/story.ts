/**
 * `client.story(...)`: what the scheduler's stimulus log holds about task keys and workers,
 * oldest first — every transition of a key, every event of a worker (added, removed and why),
 * each with the id of the stimulus that caused it (Dask's `Client.story`). Browser-safe.
 */
import type { Requester } from "../comm/protocol.ts";

/**
 * One entry of a story: a task's transition (`key`, `start` -> `finish`, and the `worker` it
 * went to) or a worker's event (`worker`, `event`, `reason`), with the `stimulusId` that caused
 * it and its `time` (ms since the epoch).
 */
export interface StoryRecord {
  /** When it happened, in ms since the epoch. */
  time: number;
  /** The stimulus that caused it, e.g. `task-finished-20`. */
  stimulusId: string;
  /** The task's key (transitions). */
  key?: string;
  /** The worker it went to, or the worker of the event. */
  worker?: string;
  /** The state it left (transitions). */
  start?: string;
  /** The state it reached (transitions). */
  finish?: string;
  /** What happened to the worker (`added`, `removed`). */
  event?: string;
  /** Why (worker events). */
  reason?: string;
}

/** What `story` needs from its Client: a request sent at once. */
export interface StoryHost {
  /** Sends a request at once and resolves with its reply. */
  ask: Requester;
}

/**
 * The story of task keys (strings or Futures), workers (addresses or names) and stimulus ids:
 * the scheduler's log entries about any of them, oldest first. The log is bounded, so a long
 * story's oldest entries may be gone.
 */
export async function story(
  host: StoryHost,
  ...keysOrWorkers: (string | { readonly key: string })[]
): Promise<StoryRecord[]> {
  const keys = keysOrWorkers.map((k) => {
    if (typeof k === "string") return k;
    if (typeof k?.key === "string") return k.key;
    throw new TypeError(
      `story takes task keys, Futures, worker addresses or names; got ${typeof k}`,
    );
  });
  const r = await host.ask({ op: "story", id: 0, keys });
  return r.events;
}
