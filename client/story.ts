/**
 * `client.story(...)`: what the scheduler's stimulus log and its workers' hold about task keys
 * and workers, oldest first — every transition of a key on the scheduler and on the workers, every
 * event of a worker (added, removed and why), each with the id of the stimulus that caused it and,
 * for a worker's entry, the scheduler's stimulus behind that (Dask's `Client.story`).
 * Browser-safe.
 */
import type { Requester, StoryEvent } from "../comm/protocol.ts";

/** One entry of a story, as the protocol declares it. */
export type { StoryEvent as StoryRecord } from "../comm/protocol.ts";

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
): Promise<StoryEvent[]> {
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
