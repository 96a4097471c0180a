/**
 * Restarting and retiring workers: the scheduler actor's side of `client.restart()` and
 * `client.retireWorkers()`. Decisions come from the state machine and scheduler/retire.ts;
 * this file sends the messages and waits for the workers to come and go.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import type { WorkerInfo } from "../comm/protocol.ts";
import type { SchedulerState } from "./state.ts";
import { planRetire, resolveWorkers } from "./retire.ts";

/** What the lifecycle calls need from the scheduler actor. */
export interface LifecycleHost {
  readonly state: SchedulerState;
  /** The live connection of a worker, if any. */
  worker(address: string): Connection | undefined;
  /** Marks a worker's departure as expected (and why): its tasks are not counted suspicious. */
  expect(address: string, why: string): void;
  /** A worker now holds copies of `keys` (posted to the actor: this runs after an await). */
  replicasAdded(address: string, keys: string[]): void;
  /** Resolves once `pred()` holds (checked whenever workers change); TimeoutError after `ms`. */
  until(pred: () => boolean, ms: number, what: string): Promise<void>;
}

/** Why restarted tasks are cancelled, as the client's CancelledError says it. */
export const RESTART_REASON = "the cluster was restarted (client.restart()): every task was " +
  "cancelled; submit the work again";

/**
 * Cancels every task, then asks every worker to exit so that its nanny starts a new process,
 * and resolves once as many workers as before are back (none of the old ones left).
 */
export async function restartWorkers(host: LifecycleHost, timeout: number): Promise<void> {
  const old = [...host.state.workers.keys()];
  host.state.cancelAll(RESTART_REASON);
  for (const a of old) {
    host.expect(a, "restarted (client.restart())");
    host.worker(a)?.send({ op: "close-worker", reason: "restart", restart: true });
  }
  const n = old.length;
  await host.until(
    () => old.every((a) => !host.state.workers.has(a)) && host.state.workers.size >= n,
    timeout,
    `the ${n} workers to restart (does each worker have a nanny?)`,
  );
}

/**
 * Stops the named workers (addresses or names) gracefully: nothing new is placed on them, each
 * key only they hold is copied to a remaining worker, then they are told to close for good
 * (their nannies do not restart them). Resolves once they left with each one's info by address
 * (Dask's `retire_workers` answer, which deployment tools read).
 */
export async function retireWorkers(
  host: LifecycleHost,
  names: string[],
  timeout: number,
): Promise<Record<string, WorkerInfo>> {
  const leaving = resolveWorkers(host.state, names);
  const retired: Record<string, WorkerInfo> = {};
  for (const ws of leaving) retired[ws.address] = ws.info;
  const plan = planRetire(host.state, leaving);
  await Promise.all([...plan].map(async ([address, who]) => {
    const conn = host.worker(address);
    if (!conn) return;
    try {
      const r = await conn.request({ op: "acquire-replicas", id: 0, who });
      host.replicasAdded(address, r.keys);
    } catch { /* that worker left too: its copies were never made */ }
  }));
  const addresses = leaving.map((ws) => ws.address);
  for (const a of addresses) {
    host.expect(a, "retired (client.retireWorkers())");
    host.worker(a)?.send({ op: "close-worker", reason: "retired" });
  }
  await host.until(
    () => addresses.every((a) => !host.state.workers.has(a)),
    timeout,
    `workers ${addresses.join(", ")} to retire`,
  );
  return retired;
}
