/**
 * Work stealing (Dask's stealing extension, made a part of the pure state machine): on each
 * `balance()` (the scheduler actor calls it on a timer), idle workers take tasks that busy
 * workers have been assigned but may not have started. The move is a transaction: the victim
 * gets `steal-request {k}` and answers `steal-response {k, state}`; only when it had not
 * started the task (waiting or ready) does the task go to the thief. A task it already runs,
 * or has finished, stays, so nothing runs twice.
 */
import { allowed, BANDWIDTH } from "./placement.ts";
import type { TaskState, WorkerState } from "./task_state.ts";
import type { GraphState, SchedulerExtension, SchedulerOp } from "./graph_state.ts";
import type { Assignment } from "./assignment.ts";
import type { TransitionEngine } from "./transitions.ts";

/** Seconds a move costs on top of its inputs' transfer: a round trip and a start (Dask: LATENCY). */
export const STEAL_LATENCY = 0.01;
/** Tasks expected to take less than this (s) are not worth moving (Dask: 5 ms). */
export const MIN_STEAL_DURATION = 0.005;
/** Moves whose cost exceeds this many times the task's duration never happen (Dask: 100). */
export const MAX_COST_RATIO = 100;
/** Steal requests sent per balancing pass, at most. */
export const MAX_STEALS_PER_PASS = 64;
/** Live entries of one victim's stealable list looked at per pass, at most. */
const SCAN_PER_VICTIM = 256;

/** The records stealing reads and changes. */
export type StealingRecords = Pick<
  GraphState,
  | "config"
  | "count"
  | "durations"
  | "out"
  | "ready"
  | "resourceNeeds"
  | "stealsInFlight"
  | "tasks"
  | "workers"
>;

/** Balancing passes and the victims' answers. */
export class WorkStealing implements SchedulerExtension {
  readonly handles: readonly SchedulerOp[] = ["steal-response"];
  /** Steal requests sent, ever (for tests and metrics). */
  stealRequests = 0;
  /** Tasks moved to a thief, ever. */
  tasksStolen = 0;

  constructor(
    readonly records: StealingRecords,
    readonly engine: Pick<TransitionEngine, "run">,
    readonly assignment: Pick<Assignment, "assign" | "unassign">,
  ) {}

  /**
   * One balancing pass. Thieves are running workers with a free thread or less expected work
   * per thread than the mean; victims are the others that hold more tasks than threads. A task
   * moves to the least loaded thief that may run it when that does not overshoot: the thief's
   * expected work per thread, plus the task and the transfer of its inputs, stays at most the
   * victim's minus the task (so work never moves back and forth). Steals in flight count on
   * both sides. Cost: O(workers) when nothing is to move; at most MAX_STEALS_PER_PASS requests.
   */
  balance(): void {
    const g = this.records;
    if (!g.config.workStealing || g.workers.size < 2) return;
    const load = new Map<WorkerState, number>(); // expected seconds of work per thread
    let total = 0, threads = 0;
    for (const ws of g.workers.values()) {
      load.set(ws, ws.occupancy / ws.info.nthreads);
      total += ws.occupancy;
      threads += ws.info.nthreads;
    }
    for (const st of g.stealsInFlight.values()) {
      const t = load.get(st.thief), v = load.get(st.victim);
      if (t !== undefined) load.set(st.thief, t + st.seconds / st.thief.info.nthreads);
      if (v !== undefined) load.set(st.victim, v - st.seconds / st.victim.info.nthreads);
    }
    const mean = total / threads;
    const thieves: WorkerState[] = [];
    const victims: WorkerState[] = [];
    for (const ws of g.workers.values()) {
      if (
        ws.status === "running" &&
        (ws.processing.size < ws.info.nthreads || load.get(ws)! < mean)
      ) thieves.push(ws);
      else if (ws.processing.size > ws.info.nthreads && ws.stealable.length) victims.push(ws);
    }
    if (!thieves.length || !victims.length) return;
    victims.sort((a, b) => load.get(b)! - load.get(a)!);
    let budget = MAX_STEALS_PER_PASS;
    for (const victim of victims) {
      budget -= this.#stealFrom(victim, thieves, load, budget);
      if (budget === 0) return;
    }
  }

  /** Asks `victim` for up to `budget` of its most recently assigned tasks; returns how many. */
  #stealFrom(
    victim: WorkerState,
    thieves: WorkerState[],
    load: Map<WorkerState, number>,
    budget: number,
  ): number {
    const g = this.records;
    const list = victim.stealable;
    let sent = 0;
    for (let i = list.length - 1, scanned = 0; i >= 0 && scanned < SCAN_PER_VICTIM; i--) {
      if (sent === budget) break;
      const ts = list[i];
      if (ts.processingOn !== victim || ts.state !== "processing") {
        dropEntry(list, i); // stale: finished, released or moved
        continue;
      }
      // seceded tasks run already; resource-bound ones were placed by their free resources
      if (victim.longRunning.has(ts) || (g.resourceNeeds.size && g.resourceNeeds.has(ts))) {
        dropEntry(list, i);
        continue;
      }
      scanned++;
      if (g.stealsInFlight.has(ts)) continue;
      const seconds = g.durations.get(ts.prefix) ?? g.config.unknownDuration;
      if (seconds < MIN_STEAL_DURATION) {
        dropEntry(list, i); // too short to be worth a move
        continue;
      }
      const lv = load.get(victim)! - seconds / victim.info.nthreads;
      let best: WorkerState | null = null, bestLoad = Infinity, lightest = Infinity;
      for (const thief of thieves) {
        const lt = load.get(thief)!;
        if (lt < lightest) lightest = lt;
        // a strict restriction is never broken; a loose one may run anywhere
        if (ts.restrictions !== null && !ts.loose && !allowed(ts, thief)) continue;
        const cost = moveCost(ts, thief);
        if (cost > MAX_COST_RATIO * seconds) continue;
        const after = lt + cost + seconds / thief.info.nthreads;
        if (after <= lv && after < bestLoad) {
          best = thief;
          bestLoad = after;
        }
      }
      if (!best) {
        if (lightest + STEAL_LATENCY + seconds > lv) break; // balanced: no thief gains
        continue;
      }
      g.stealsInFlight.set(ts, { victim, thief: best, seconds });
      this.stealRequests++;
      g.out.worker(victim.address, { op: "steal-request", k: ts.key });
      load.set(best, load.get(best)! + seconds / best.info.nthreads);
      load.set(victim, lv);
      dropEntry(list, i);
      sent++;
    }
    return sent;
  }

  /**
   * The victim's answer to a steal request: its state of `key` (null: unknown to it). When it
   * had not started the task (waiting or ready) it dropped it, and the task goes to the thief
   * (or, when the thief is gone or may not run it any more, to wherever placement puts it).
   * Otherwise the task stays: it runs there, or has finished and its result is on the way.
   */
  stealResponse(address: string, key: string, state: string | null): void {
    const g = this.records;
    const ts = g.tasks.get(key);
    const steal = ts && g.stealsInFlight.get(ts);
    // no entry: the task left that worker since (finished, erred, released): nothing to move
    if (!ts || !steal || steal.victim.address !== address) return;
    g.stealsInFlight.delete(ts);
    if (state !== null && state !== "waiting" && state !== "ready") return;
    const thief = steal.thief;
    this.assignment.unassign(ts, false); // the victim dropped it already
    const depsHere = ts.deps.every((d) => d.state === "memory");
    if (
      depsHere && g.workers.get(thief.address) === thief && thief.status === "running" &&
      (ts.restrictions === null || ts.loose || allowed(ts, thief))
    ) {
      this.tasksStolen++;
      this.assignment.assign(ts, thief, "processing");
    } else {
      ts.state = "waiting"; // placed again once the transitions settle
      g.count("processing", "waiting", ts);
      g.ready.push(ts);
    }
    this.engine.run();
  }
}

/** Seconds to move `ts` to `thief`: its inputs the thief lacks, plus the round trip. */
function moveCost(ts: TaskState, thief: WorkerState): number {
  let bytes = 0;
  for (const dep of ts.deps) {
    if (!dep.whoHas) return Infinity; // an input was lost meanwhile: leave the task be
    if (!dep.whoHas.has(thief)) bytes += Math.max(dep.nbytes, 0);
  }
  return bytes / BANDWIDTH + STEAL_LATENCY;
}

/** Removes entry `i` of a stealable list (order of the rest barely matters: swap with last). */
function dropEntry(list: TaskState[], i: number): void {
  const last = list.pop()!;
  if (i < list.length) list[i] = last;
}
