/**
 * Before a client sends scattered values to workers, the scheduler tells each worker which keys
 * to accept (`expect-data`): a worker refuses any `put-data` it was not told of.
 */
import type { Connection } from "../comm/connection.ts";

/**
 * Announces the planned keys (key -> worker addresses) to their workers and resolves once each
 * acknowledged or is gone (its `put-data` then fails and the client reports where values went).
 */
export async function announceScatter(
  who: Record<string, string[]>,
  worker: (address: string) => Connection | undefined,
): Promise<void> {
  const byWorker = new Map<string, string[]>();
  for (const key in who) {
    for (const w of who[key]) {
      const keys = byWorker.get(w);
      if (keys) keys.push(key);
      else byWorker.set(w, [key]);
    }
  }
  await Promise.all(
    Array.from(
      byWorker,
      ([address, keys]) =>
        worker(address)?.request({ op: "expect-data", id: 0, keys }).catch(() => {}),
    ),
  );
}
