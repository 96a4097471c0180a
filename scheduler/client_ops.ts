/**
 * Client stimuli beyond submitting (i4-graph): cancelling keys (cascading to dependents only
 * this client wants, or every client's with force), retrying erred keys, fire-and-forget, and
 * scattered data (placement plan, then the workers that got it). Pure: no I/O, no timers.
 */
import { keyPrefix } from "../comm/keys.ts";
import type { TaskFinished } from "../comm/protocol.ts";
import { SmallSet } from "./small_set.ts";
import { SchedulerStealing } from "./stealing.ts";
import { TaskState, type WorkerState } from "./task_state.ts";
import { FIRE_AND_FORGET } from "./transitions.ts";

/** Where each key of a scatter goes: key -> worker addresses (absent: already in memory). */
export type ScatterPlanResult = Record<string, string[]>;

/** Cancel, retry, fire-and-forget and scatter on top of the transition engine. */
export abstract class SchedulerClientOps extends SchedulerStealing {
  /**
   * `client` cancels `keys`: it no longer wants them, nor any dependent that only it wants
   * (with `force`, no client wants them any more). Every client that lost a key it wanted is
   * told `keys-cancelled`, except `client` for the keys it named (it settled those itself).
   */
  cancelKeys(client: string, keys: string[], force = false): void {
    const named = new Set<TaskState>();
    const todo: TaskState[] = [];
    for (const k of keys) {
      const ts = this.tasks.get(k);
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
          this.out.client(c, { op: "keys-cancelled", keys: [ts.key], reason: reason(ts, root) });
        }
        this.dropWant(ts, c);
      }
      if (!alone || !ts.dependents) continue;
      for (const dts of ts.dependents) {
        if (seen.has(dts) || dts.state === "memory") continue;
        seen.add(dts);
        roots.set(dts, root);
        todo.push(dts);
      }
    }
    this.run();
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
      const ts = this.tasks.get(k);
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
      this.count("erred", "released");
    }
    this.recommend(all, "waiting");
    this.run();
  }

  /** These keys stay wanted (by the fire-and-forget pseudo-client) until they finish or err. */
  fireAndForget(keys: string[]): void {
    this.clients.add(FIRE_AND_FORGET);
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (!ts || ts.state === "memory" || ts.state === "erred") continue;
      ts.addWant(FIRE_AND_FORGET);
    }
  }

  /**
   * `client` scatters `keys`: it wants them from now on (tasks submitted after may depend on
   * them), and gets where to send each value: one worker (the one holding the fewest bytes per
   * thread, counting this plan), or every allowed worker with `broadcast`. Keys already in
   * memory are left out (the client is told `key-in-memory`). Null when no allowed worker is
   * connected yet.
   */
  scatterPlan(
    client: string,
    keys: string[],
    nbytes: number[],
    workers?: string[],
    broadcast = false,
  ): ScatterPlanResult | null {
    const allow = workers?.length ? new Set(workers) : null;
    const cands: WorkerState[] = [];
    for (const ws of this.workers.values()) {
      if (ws.status === "closing") continue;
      if (allow && !allow.has(ws.address) && !allow.has(ws.info.name)) continue;
      cands.push(ws);
    }
    if (cands.length === 0) return null;
    const known = this.clients.has(client);
    const load = new Map<WorkerState, number>();
    for (const ws of cands) load.set(ws, ws.nbytes / ws.info.nthreads);
    const plan: ScatterPlanResult = {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      let ts = this.tasks.get(k);
      if (!ts) {
        ts = new TaskState(k, keyPrefix(k), "", null);
        ts.state = "waiting"; // until update-data says which workers got it
        this.counts.waiting++;
        this.addTask(ts);
      }
      if (known) ts.addWant(client);
      if (ts.state === "memory") {
        this.tellInMemory(ts, client);
        continue;
      }
      if (ts.hasArgs) continue; // a computed key of that name: it comes when computed
      if (broadcast) {
        plan[k] = cands.map((ws) => ws.address);
        continue;
      }
      let best = cands[0];
      for (const ws of cands) if (load.get(ws)! < load.get(best)!) best = ws;
      load.set(best, load.get(best)! + nbytes[i] / best.info.nthreads);
      plan[k] = [best.address];
    }
    return plan;
  }

  /**
   * Scattered values reached the workers in `who` (key -> addresses): they are in memory there.
   * A key that reached none is cancelled (it cannot be recomputed); a value nobody wants any
   * more is freed on the workers that got it.
   */
  updateData(who: Record<string, string[]>, nbytes: Record<string, number>): void {
    for (const k in who) {
      const ts = this.tasks.get(k);
      const holders: WorkerState[] = [];
      for (const a of who[k]) {
        const ws = this.workers.get(a);
        if (ws) holders.push(ws);
      }
      if (!ts || ts.hasArgs) {
        for (const ws of holders) this.out.worker(ws.address, { op: "free-keys", keys: [k] });
        continue;
      }
      if (holders.length === 0) {
        if (ts.state !== "memory") {
          this.cancel(ts, `${k} was scattered but its value reached no worker; scatter it again`);
        }
        continue;
      }
      const size = nbytes[k] ?? 0;
      if (ts.state === "memory") {
        for (const ws of holders) {
          if (ts.whoHas!.has(ws)) continue;
          ts.whoHas!.add(ws);
          ws.hasWhat.add(ts);
          ws.nbytes += ts.nbytes;
        }
        continue;
      }
      this.count(ts.state, "memory");
      ts.state = "memory";
      ts.nbytes = size;
      ts.whoHas = new SmallSet();
      for (const ws of holders) {
        ts.whoHas.add(ws);
        ws.hasWhat.add(ts);
        ws.nbytes += size;
      }
      if (ts.dependents) {
        for (const dts of ts.dependents) {
          if (dts.state === "waiting" && dts.deleteWaitingOn(ts) && dts.waitingOnCount === 0) {
            this.ready.push(dts);
          }
        }
      }
      for (const c of ts.wants()) this.tellInMemory(ts, c);
      if (!this.needed(ts)) this.recs.push(ts, "released");
    }
    this.run();
  }

  /** Tells `client` that `ts` is in memory, and where. */
  protected tellInMemory(ts: TaskState, client: string, v?: TaskFinished["v"]): void {
    this.out.client(client, {
      op: "key-in-memory",
      k: ts.key,
      w: Array.from(ts.whoHas!, (w) => w.address),
      v,
    });
  }
}
