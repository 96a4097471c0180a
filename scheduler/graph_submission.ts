/**
 * Graph submission (`update-graph`): a client's new tasks become records, linked to their
 * dependencies, ordered by priority and FIFO generation, and the keys it wants start towards
 * memory. Tasks without options come as columns (`plain`) and are read without an object per
 * task. Pure: no I/O, no timers.
 */
import type { PlainTasks, UpdateGraph } from "../comm/protocol.ts";
import { DEFAULT_FIFO_TIMEOUT } from "../comm/protocol.ts";
import { keyPrefix } from "../core/keys.ts";
import { SmallSet } from "./small_set.ts";
import { TaskState } from "./task_state.ts";
import { ArgSlab } from "./arg_slab.ts";
import type { GraphState, SchedulerExtension, SchedulerOp } from "./graph_state.ts";
import type { TransitionEngine } from "./transitions.ts";

/** The records a submission reads and adds to. */
export type SubmissionRecords = Pick<
  GraphState,
  | "actors"
  | "addTask"
  | "clients"
  | "counts"
  | "functions"
  | "needed"
  | "resourceNeeds"
  | "tasks"
  | "tellErred"
  | "tellInMemory"
>;

/** What a submission asks of the transition engine. */
export type SubmissionEngine = Pick<TransitionEngine, "recommend" | "run">;

/** Turns `update-graph` messages into tasks. */
export class GraphSubmission implements SchedulerExtension {
  readonly handles: readonly SchedulerOp[] = ["update-graph"];
  #seq = 0;
  /** FIFO generation of submissions, and when (ms) it last moved on. */
  #generation = 0;
  #generationAt = -Infinity;
  #slab = new ArgSlab();
  #lastOnlyDep: TaskState[] = [];

  constructor(readonly records: SubmissionRecords, readonly engine: SubmissionEngine) {}

  /**
   * A client submitted tasks and says which keys it wants. `now` (ms, any monotonic clock)
   * starts a new FIFO generation when more than the message's fifoTimeout passed since the
   * last one began: later generations run after earlier ones (Dask's fifo_timeout).
   */
  updateGraph(client: string, msg: UpdateGraph, now?: number): void {
    const g = this.records;
    if (now !== undefined && now > this.#generationAt + (msg.fifo ?? DEFAULT_FIFO_TIMEOUT)) {
      this.#generation++;
      this.#generationAt = now;
    }
    if (msg.functions) { for (const f of msg.functions) g.functions.set(f.h, f); }
    const fresh: TaskState[] = [];
    const toWait: TaskState[] = [];
    const known = g.clients.has(client);
    if (msg.plain) this.#addPlain(client, known, msg.plain, fresh, toWait);
    const plainCount = fresh.length;
    const specs: UpdateGraph["tasks"] = [];
    for (const spec of msg.tasks) {
      if (g.tasks.has(spec.k)) continue;
      // the function's hash string is shared with its definition, not one copy per task
      const fn = g.functions.get(spec.f)?.h ?? spec.f;
      const ts = new TaskState(spec.k, keyPrefix(spec.k), fn, spec.a, this.#slab);
      ts.rank = spec.p ? -spec.p : 0; // never -0: a double would box every task's rank
      ts.order = ++this.#seq;
      ts.generation = this.#generation;
      ts.retries = spec.r ?? 0;
      if (spec.w?.length) {
        ts.restrictions = new Set(spec.w);
        ts.loose = spec.lo === true;
      }
      // resources; tasks submitted from a task run before its siblings
      if (spec.rs && Object.values(spec.rs).some((n) => n > 0)) {
        g.resourceNeeds.set(ts, spec.rs);
      }
      if (spec.ac !== undefined) g.actors.add(ts, spec.ac);
      if (spec.ps !== undefined) {
        const parent = g.tasks.get(spec.ps);
        if (parent) ts.rank = subtaskRank(ts.rank, parent.rank);
      }
      g.addTask(ts);
      fresh.push(ts);
      specs.push(spec);
    }
    // linked once every new task exists: a dependency may come later in the same message
    for (let i = 0; i < specs.length; i++) {
      const ts = fresh[plainCount + i], spec = specs[i];
      this.#checkFunction(ts, spec.f);
      for (const dk of spec.d) this.#link(ts, dk);
    }
    for (const k of msg.wanted) {
      const ts = g.tasks.get(k);
      if (ts && known) this.#want(client, ts, toWait);
    }
    const broken: TaskState[] = [];
    const unneeded: TaskState[] = [];
    for (let i = 0; i < fresh.length; i++) {
      const ts = fresh[i];
      if (ts.exception && (g.needed(ts) || ts.dependents?.size)) {
        ts.blame = ts;
        broken.push(ts);
      } else if (!g.needed(ts)) unneeded.push(ts);
    }
    // applied last to first: errors first, so that nothing starts on top of a broken task
    const engine = this.engine;
    engine.recommend(unneeded, "forgotten");
    engine.recommend(toWait, "waiting");
    engine.recommend(broken, "erred");
    this.#lastOnlyDep = []; // the cache serves one message: it must not keep a task alive
    engine.run();
  }

  /** Creates, links and wants the tasks of a `plain` block (their dependencies come first). */
  #addPlain(
    client: string,
    known: boolean,
    p: PlainTasks,
    fresh: TaskState[],
    toWait: TaskState[],
  ): void {
    const g = this.records;
    const args = p.a.header;
    let start = 0, at = 0;
    for (let i = 0; i < p.k.length; i++) {
      const key = p.k[i], end = p.ae[i];
      const stop = at + (p.dc ? p.dc[i] : 0);
      let ts = g.tasks.get(key);
      if (ts === undefined) {
        const f = p.f[p.fi ? p.fi[i] : 0];
        ts = new TaskState(key, keyPrefix(key), g.functions.get(f)?.h ?? f, null);
        ts.setArgsRange(args, start, end, this.#slab);
        ts.order = ++this.#seq;
        ts.generation = this.#generation;
        g.addTask(ts);
        fresh.push(ts);
        this.#checkFunction(ts, f);
        for (; at < stop; at++) this.#link(ts, p.d[p.di![at]]);
      }
      at = stop;
      start = end;
      if (known) this.#want(client, ts, toWait);
    }
  }

  /** A task naming a function the client never sent errs. */
  #checkFunction(ts: TaskState, f: string): void {
    if (this.records.functions.has(f)) return;
    ts.exception = {
      name: "ProtocolError",
      message: `task ${ts.key} names function ${f}, which the client never sent`,
    };
  }

  /** Makes `ts` depend on the task under `dk` (a missing one makes it err). */
  #link(ts: TaskState, dk: string): void {
    const dep = this.records.tasks.get(dk);
    if (!dep) {
      ts.exception ??= {
        name: "CancelledError",
        message: `dependency ${dk} of ${ts.key} is not known to the scheduler ` +
          `(it was released or lost); submit it again`,
      };
      return;
    }
    if (dep.dependents?.has(ts)) return; // listed twice
    // A lone dependency's list is shared (frozen) by every task that has just it, as in a map
    // over one input; a second one makes a list of its own, sized exactly (an array grown by
    // push reserves room for 17).
    if (ts.deps.length === 0) ts.deps = this.#onlyDep(dep);
    else if (ts.deps.length === 1) ts.deps = [ts.deps[0], dep];
    else ts.deps.push(dep);
    (dep.dependents ??= new SmallSet()).add(ts);
  }

  /** `client` wants `ts`: told at once if it is done, else it waits (collected in `toWait`). */
  #want(client: string, ts: TaskState, toWait: TaskState[]): void {
    ts.addWant(client);
    if (ts.state === "memory") this.records.tellInMemory(ts, client);
    else if (ts.state === "erred") this.records.tellErred(ts, client);
    else if (ts.state === "released" && !ts.exception) toWait.push(ts);
  }

  /** The shared, frozen `[dep]` (the last one made is reused). */
  #onlyDep(dep: TaskState): TaskState[] {
    if (this.#lastOnlyDep[0] !== dep) this.#lastOnlyDep = Object.freeze([dep]) as TaskState[];
    return this.#lastOnlyDep;
  }
}

/** How much a submitted-from-a-task level raises priority: below any user priority step. */
const SUBTASK_STEP = 1 / 1024;

/**
 * The rank of a task submitted from inside the task of rank `parentRank` (Dask: a generation
 * before its parent's): its own user priority first, then one step ahead of its parent's level,
 * so it runs before its parent's siblings still waiting and before later submissions.
 */
export function subtaskRank(rank: number, parentRank: number): number {
  const parentLevel = Math.round((Math.round(parentRank) - parentRank) / SUBTASK_STEP);
  return rank - Math.min(parentLevel + 1, 511) * SUBTASK_STEP;
}
