/** Cluster-wide calls on a worker: fetching replicas of keys from their holders. */
import type { Payload } from "../comm/serialize.ts";
import type { PeerPool } from "../comm/peer_pool.ts";

/**
 * Fetches each key of `who` (key -> holders) from its holders, one holder after another, and
 * returns the values it got; keys no holder had (or no holder could serve) are left out.
 */
export async function fetchReplicas(
  peers: PeerPool,
  who: Record<string, string[]>,
): Promise<Record<string, Payload>> {
  const got: Record<string, Payload> = {};
  let todo = Object.keys(who);
  for (let round = 0; todo.length; round++) {
    const byHolder = new Map<string, string[]>();
    for (const k of todo) {
      const h = who[k][round];
      if (h === undefined) continue;
      let keys = byHolder.get(h);
      if (!keys) byHolder.set(h, keys = []);
      keys.push(k);
    }
    if (byHolder.size === 0) break;
    await Promise.all([...byHolder].map(async ([h, keys]) => {
      try {
        Object.assign(got, await peers.getData(h, keys));
      } catch { /* that holder is gone: the next one is tried */ }
    }));
    todo = todo.filter((k) => got[k] === undefined);
  }
  return got;
}
