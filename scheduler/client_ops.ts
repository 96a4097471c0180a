/**
 * Client operations on keys beyond submitting them: releasing them (a Future dropped), asking
 * where values are, cancelling (cascading to dependents only this client wants, or every
 * client's with force), retrying erred keys, and fire-and-forget. Pure: no I/O, no timers.
 */
import {
  FIRE_AND_FORGET,
  type GraphState,
  type SchedulerExtension,
  type SchedulerOp,
} from "./graph_state.ts";
import type { TaskState } from "./task_state.ts";
import type { TransitionEngine } from "./transitions.ts";

/** The records the client operations read and change. */
export type ClientOpsRecords = Pick<
  GraphState,
  "clients" | "count" | "out" | "tasks" | "tellErred" | "tellInMemory"
>;

/** What the client operations ask of the transition engine. */
export type ClientOpsEngine = Pick<TransitionEngine, "dropWant" | "recommend" | "run">;

/** Release, request-values, cancel, retry and fire-and-forget. */
export class ClientOps implements SchedulerExtension {
  readonly handles: readonly SchedulerOp[] = [
    "release-keys",
    "request-values",
    "cancel-keys",
    "retry-keys",
    "fire-and-forget",
  ];

  constructor(readonly records: ClientOpsRecords, readonly engine: ClientOpsEngine) {}

  /** A client dropped its Futures for these keys. */
  releaseKeys(client: string, keys: string[]): void {
    for (const k of keys) {
      const ts = this.records.tasks.get(k);
      if (!ts || !ts.hasWant(client)) continue;
      this.engine.dropWant(ts, client);
    }
    this.engine.run();
  }

  /** A client asks again where values are (it will fetch them from the workers). */
  requestValues(client: string, keys: string[]): void {
    const g = this.records;
    for (const k of keys) {
      const ts = g.tasks.get(k);
      if (ts?.state === "memory") g.tellInMemory(ts, client);
      else if (ts?.state === "erred") g.tellErred(ts, client);
      else if (!ts) {
        g.out.client(client, {
          op: "keys-cancelled",
          keys: [k],
          reason: `${k} is not known to the scheduler (released or lost)`,
        });
      }
    }
  }

  /**
   * `client` cancels `keys`: it no longer wants them, nor any dependent that only it wants
   * (with `force`, no client wants them any more). Every client that lost a key it wanted is
   * told `keys-cancelled`, except `client` for the keys it named (it settled those itself).
   */
  cancelKeys(client: string, keys: string[], force = false): void {
    const named = new Set<TaskState>();
    const todo: TaskState[] = [];
    for (const k of keys) {
      const ts = this.records.tasks.get(k);
      if (ts && !named.has(ts) && (force || ts.hasWant(client))) {
        named.add(ts);
        todo.push(ts);
      }
    }
    const seen = new Set(todo);
    const reason = (ts: TaskState, root: TaskState) =>
      ts === root
        ? `${ts.key} was cancelled${force ? " (forced)" : ""} by ${client}`
        : `${ts.key} was cancelled because its dependency ${root.key} was cancelled by ${client}`;
    const roots = new Map<TaskState, TaskState>();
    for (const ts of todo) roots.set(ts, ts);
    while (todo.length) {
      const ts = todo.pop()!;
      const root = roots.get(ts)!;
      const wanters = [...ts.wants()];
      const alone = force || wanters.every((c) => c === client);
      const drop = force ? wanters : wanters.filter((c) => c === client);
      for (const c of drop) {
        if (!(c === client && named.has(ts))) {
          this.records.out.client(c, {
            op: "keys-cancelled",
            keys: [ts.key],
            reason: reason(ts, root),
          });
        }
        this.engine.dropWant(ts, c);
      }
      if (!alone || !ts.dependents) continue;
      for (const dts of ts.dependents) {
        if (seen.has(dts) || dts.state === "memory") continue;
        seen.add(dts);
        roots.set(dts, root);
        todo.push(dts);
      }
    }
    this.engine.run();
  }

  /**
   * Erred `keys` run again: each goes back to waiting with its erred dependencies (down to the
   * tasks that raised) and its erred dependents (Dask's stimulus_retry).
   */
  retryKeys(keys: string[]): void {
    const all: TaskState[] = [];
    const seen = new Set<TaskState>();
    const down: TaskState[] = [];
    for (const k of keys) {
      const ts = this.records.tasks.get(k);
      if (ts?.state === "erred") down.push(ts);
    }
    while (down.length) {
      const ts = down.pop()!;
      if (seen.has(ts)) continue;
      seen.add(ts);
      all.push(ts);
      for (const dep of ts.deps) if (dep.state === "erred" && !seen.has(dep)) down.push(dep);
    }
    for (let i = 0; i < all.length; i++) { // erred dependents come back too
      for (const dts of all[i].dependents ?? []) {
        if (dts.state === "erred" && !seen.has(dts)) {
          seen.add(dts);
          all.push(dts);
        }
      }
    }
    for (const ts of all) {
      ts.exception = null;
      ts.blame = null;
      ts.state = "released";
      this.records.count("erred", "released", ts);
    }
    this.engine.recommend(all, "waiting");
    this.engine.run();
  }

  /** These keys stay wanted (by the fire-and-forget pseudo-client) until they finish or err. */
  fireAndForget(keys: string[]): void {
    this.records.clients.add(FIRE_AND_FORGET);
    for (const k of keys) {
      const ts = this.records.tasks.get(k);
      if (!ts || ts.state === "memory" || ts.state === "erred") continue;
      ts.addWant(FIRE_AND_FORGET);
    }
  }
}
