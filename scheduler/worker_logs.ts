/**
 * The workers' log lines (Dask's `get_worker_logs`): each worker asked is sent `worker-logs`
 * and answers with its last lines. A worker that does not answer within WORKER_LOGS_TIMEOUT
 * adds nothing.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import { withTimeout } from "../comm/handshake.ts";
import { WORKER_LOGS_TIMEOUT } from "../comm/timeouts.ts";
import { workerNamed } from "./retire.ts";
import type { SchedulerState } from "./state.ts";

/** `[level, message]` pairs, oldest first. */
export type LogLine = [string, string];

/** The log lines of one worker, or null when it did not answer in time. */
export async function workerLogLines(
  address: string,
  conn: Connection,
  timeout: number = WORKER_LOGS_TIMEOUT,
): Promise<LogLine[] | null> {
  try {
    const r = await withTimeout(
      conn.request({ op: "worker-logs", id: 0 }),
      timeout,
      `the log lines of ${address}`,
    );
    return r.lines;
  } catch {
    return null;
  }
}

/** Asks each of `workers` (address, connection) for its lines; those that answered, by address. */
export async function workerLogs(
  workers: Iterable<[string, Connection]>,
): Promise<Record<string, LogLine[]>> {
  const asked = Array.from(workers);
  const lines = await Promise.all(asked.map(([a, conn]) => workerLogLines(a, conn)));
  const out: Record<string, LogLine[]> = {};
  asked.forEach(([a], i) => {
    if (lines[i] !== null) out[a] = lines[i]!;
  });
  return out;
}

/** The connections of the workers `names` names (addresses or names; all when absent). */
export function namedConnections(
  state: Pick<SchedulerState, "workers">,
  conns: ReadonlyMap<string, Connection>,
  names?: readonly string[],
): [string, Connection][] {
  if (names === undefined) return [...conns];
  const out = new Map<string, Connection>();
  for (const name of names) {
    const address = workerNamed(state, name)?.address;
    const conn = address === undefined ? undefined : conns.get(address);
    if (conn) out.set(address!, conn);
  }
  return [...out];
}
