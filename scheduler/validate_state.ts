/**
 * Every invariant of the scheduler's records, checked (Dask's `validate_state`): the counts
 * against the tasks' states, the graph's links both ways, who holds what against what each
 * worker holds, processing against each worker's processing set, occupancy, bytes and resources
 * against their sums, the queues against the states, wants against the known clients. The
 * state machine runs it after every stimulus when its config says `validate` (the tests do).
 */
import { DtaskError } from "../core/errors.ts";
import type { IndexedHeap } from "../core/heap.ts";
import type { SchedulerConfig, Steal } from "./graph_state.ts";
import type { Resources } from "./placement.ts";
import type { PrefixTallies } from "./prefix_tallies.ts";
import { TASK_STATES, type TaskState, type TaskStateName, type WorkerState } from "./task_state.ts";

/** The scheduler's state broke an invariant: a bug in the scheduler, not in the user's code. */
export class InvalidStateError extends DtaskError {
  override name = "InvalidStateError";
}

/** What the checks read: the records (graph_state.ts), or the SchedulerState that holds them. */
export interface ValidatedState {
  readonly tasks: ReadonlyMap<string, TaskState>;
  readonly workers: ReadonlyMap<string, WorkerState>;
  readonly clients: ReadonlySet<string>;
  readonly counts: Readonly<Record<TaskStateName, number>>;
  readonly prefixCounts: ReadonlyMap<string, number>;
  readonly prefixStates: PrefixTallies;
  readonly totalThreads: number;
  readonly queued: Pick<IndexedHeap<TaskState>, "size" | "values">;
  readonly resourceQueued: Pick<IndexedHeap<TaskState>, "size" | "values">;
  readonly unrunnable: ReadonlySet<TaskState>;
  readonly resourceNeeds: ReadonlyMap<TaskState, Resources>;
  readonly stealsInFlight: ReadonlyMap<TaskState, Steal>;
  readonly config: Pick<SchedulerConfig, "workStealing">;
}

/** The per-prefix tallies against the tasks' states and prefixes. */
function validatePrefixStates(s: ValidatedState): void {
  const want = new Map<string, Record<string, number>>();
  for (const ts of s.tasks.values()) {
    let t = want.get(ts.prefix);
    if (!t) want.set(ts.prefix, t = { live: 0, doneReleased: 0 });
    t[ts.state] = (t[ts.state] ?? 0) + 1;
    t.live++;
    if (ts.state === "released" && ts.nbytes >= 0) t.doneReleased++;
  }
  for (const [prefix, tally] of s.prefixStates.byPrefix) {
    const t = want.get(prefix) ?? { live: 0, doneReleased: 0 };
    for (const field of [...TASK_STATES, "live", "doneReleased"] as const) {
      if (tally[field] !== (t[field] ?? 0)) {
        fail(`prefix ${prefix} tallies ${tally[field]} tasks ${field}, not ${t[field] ?? 0}`);
      }
    }
  }
  for (const prefix of want.keys()) {
    if (!s.prefixStates.byPrefix.has(prefix)) fail(`prefix ${prefix} has no tally`);
  }
}

/** Throws an InvalidStateError naming the key or worker of the first inconsistency found. */
export function validateState(s: ValidatedState): void {
  const counts = Object.fromEntries(TASK_STATES.map((x) => [x, 0])) as Record<
    TaskStateName,
    number
  >;
  const prefixes = new Map<string, number>();
  for (const [key, ts] of s.tasks) {
    counts[ts.state]++;
    prefixes.set(ts.prefix, (prefixes.get(ts.prefix) ?? 0) + 1);
    validateTask(s, key, ts);
  }
  for (const state of TASK_STATES) {
    if (s.counts[state] !== counts[state]) {
      fail(`counts.${state} is ${s.counts[state]}, but ${counts[state]} tasks are ${state}`);
    }
  }
  for (const [prefix, n] of prefixes) {
    if (s.prefixCounts.get(prefix) !== n) {
      fail(`prefix ${prefix} counts ${s.prefixCounts.get(prefix)} tasks, not ${n}`);
    }
  }
  if (s.prefixCounts.size !== prefixes.size) {
    fail(`prefix counts kept for prefixes with no task`);
  }
  validatePrefixStates(s);
  let processing = 0, threads = 0;
  for (const [address, ws] of s.workers) {
    processing += validateWorker(s, address, ws);
    threads += ws.info.nthreads;
  }
  if (s.totalThreads !== threads) {
    fail(`totalThreads is ${s.totalThreads}, the workers have ${threads}`);
  }
  if (processing !== counts.processing) {
    fail(`${processing} tasks in processing sets, ${counts.processing} processing`);
  }
  for (const [ts, st] of s.stealsInFlight) {
    const at = `steal of ${ts.key}`;
    if (ts.state !== "processing") fail(`${at}, which is ${ts.state}`);
    if (ts.processingOn !== st.victim) {
      fail(`${at} from ${st.victim.address}, which does not run it`);
    }
    if (s.workers.get(st.victim.address) !== st.victim) {
      fail(`${at} from removed ${st.victim.address}`);
    }
  }
  if (s.queued.size + s.resourceQueued.size !== counts.queued) {
    fail(
      `${s.queued.size} + ${s.resourceQueued.size} tasks in the queues, ${counts.queued} queued`,
    );
  }
  for (const ts of s.queued.values()) {
    if (ts.state !== "queued") fail(`${ts.key} in the queue is ${ts.state}`);
  }
  for (const ts of s.resourceQueued.values()) {
    if (ts.state !== "queued") fail(`${ts.key} in the resource queue is ${ts.state}`);
    if (!s.resourceNeeds.has(ts)) fail(`${ts.key} queued for resources it does not need`);
  }
  for (const ts of s.resourceNeeds.keys()) {
    if (s.tasks.get(ts.key) !== ts) fail(`resource needs kept for forgotten ${ts.key}`);
  }
  if (s.unrunnable.size !== counts["no-worker"]) {
    fail(`${s.unrunnable.size} unrunnable tasks, ${counts["no-worker"]} no-worker`);
  }
}

/** Dependencies that still need their value from these states (their waiters). */
function pending(state: TaskStateName): boolean {
  return state === "waiting" || state === "processing" || state === "no-worker";
}

function validateTask(s: ValidatedState, key: string, ts: TaskState): void {
  if (ts.key !== key) fail(`${where(key, ts)}: filed under another key (${ts.key})`);
  if (ts.state === "forgotten") fail(`${where(key, ts)}: a forgotten task is still known`);
  for (const dep of ts.deps) {
    if (s.tasks.get(dep.key) !== dep) fail(`${where(key, ts)}: depends on forgotten ${dep.key}`);
    if (!dep.dependents?.has(ts)) {
      fail(`${where(key, ts)}: not among ${dep.key}'s dependents`);
    }
  }
  for (const d of ts.dependents ?? []) {
    if (s.tasks.get(d.key) !== d) fail(`${where(key, ts)}: has forgotten dependent ${d.key}`);
    if (!d.deps.includes(ts)) fail(`${where(key, ts)}: dependent ${d.key} does not list it`);
  }
  // waiters: exactly the dependents waiting, processing, or ready with no worker to run them
  for (const w of ts.waiters ?? []) {
    if (!ts.dependents?.has(w)) {
      fail(`${where(key, ts)}: waiter ${w.key} is not a dependent`);
    }
    if (!pending(w.state)) fail(`${where(key, ts)}: waiter ${w.key} is ${w.state}`);
  }
  if (pending(ts.state)) {
    for (const dep of ts.deps) {
      if (!dep.waiters?.has(ts)) {
        fail(`${where(key, ts)}: not a waiter of its dependency ${dep.key}`);
      }
    }
  }
  // waiting on dependencies only while waiting, and only on those not yet in memory
  if (ts.waitingOnCount) {
    if (ts.state !== "waiting") fail(`${where(key, ts)}: waits on dependencies while not waiting`);
    for (const d of ts.waitingOn()) {
      if (!ts.deps.includes(d)) fail(`${where(key, ts)}: waits on ${d.key}, not a dependency`);
      if (d.state === "memory" || d.state === "erred") {
        fail(`${where(key, ts)}: waits on ${d.key}, ${d.state}`);
      }
    }
  }
  // only scattered data (no arguments) waits on nothing: for update-data to say where it is
  if (ts.state === "waiting" && ts.waitingOnCount === 0 && ts.hasArgs) {
    fail(`${where(key, ts)}: waits on nothing`);
  }
  if (ts.state === "processing") {
    const ws = ts.processingOn;
    if (ws === null) fail(`${where(key, ts)}: on no worker`);
    if (s.workers.get(ws.address) !== ws) {
      fail(`${where(key, ts)}: on removed worker ${ws.address}`);
    }
    if (!ws.processing.has(ts)) {
      fail(`${where(key, ts)}: not in ${ws.address}'s processing set`);
    }
  } else if (ts.processingOn !== null) {
    fail(`${where(key, ts)}: processing on ${ts.processingOn?.address}`);
  }
  if (ts.state === "memory") {
    if (!ts.whoHas?.size) fail(`${where(key, ts)}: no worker holds it`);
    for (const ws of ts.whoHas!) {
      if (s.workers.get(ws.address) !== ws) {
        fail(`${where(key, ts)}: held by removed worker ${ws.address}`);
      }
      if (!ws.hasWhat.has(ts)) {
        fail(`${where(key, ts)}: held by ${ws.address}, not in its hasWhat`);
      }
    }
  } else if (ts.whoHas?.size) fail(`${where(key, ts)}: held by workers while not in memory`);
  if ((ts.heapIndex >= 0) !== (ts.state === "queued")) {
    fail(`${where(key, ts)}: queue membership`);
  }
  if (s.unrunnable.has(ts) !== (ts.state === "no-worker")) {
    fail(`${where(key, ts)}: unrunnable membership`);
  }
  if (ts.state === "erred") {
    if (ts.exception === null) fail(`${where(key, ts)}: no exception`);
    if (ts.blame === null) fail(`${where(key, ts)}: no task to blame`);
  }
  for (const c of ts.wants()) {
    if (!s.clients.has(c)) fail(`${where(key, ts)}: wanted by unknown client ${c}`);
  }
  // nothing runs or is kept for nobody; nothing is kept that could be forgotten
  const needed = ts.wantCount > 0 || (ts.waiters?.size ?? 0) > 0;
  switch (ts.state) {
    case "waiting":
    case "processing":
    case "queued":
    case "no-worker":
    case "memory":
      if (!needed) fail(`${where(key, ts)}: nobody needs it`);
      break;
    case "released":
      if (needed) fail(`${where(key, ts)}: needed but released`);
      if (!ts.dependents?.size) {
        fail(`${where(key, ts)}: released with no dependents (not forgotten)`);
      }
      break;
    case "erred":
      if (ts.wantCount === 0 && !ts.dependents?.size) {
        fail(`${where(key, ts)}: unwanted, no dependents (not forgotten)`);
      }
      break;
  }
}

/** Checks one worker; returns how many tasks it is processing. */
function validateWorker(s: ValidatedState, address: string, ws: WorkerState): number {
  const at = `worker ${address}`;
  if (ws.address !== address) fail(`${at}: filed under another address (${ws.address})`);
  let occupancy = 0, nbytes = 0;
  const used: Record<string, number> = {};
  for (const ts of ws.processing) {
    if (ts.processingOn !== ws) fail(`${at}: ${ts.key} in its processing set runs elsewhere`);
    if (s.tasks.get(ts.key) !== ts) fail(`${at}: processing forgotten ${ts.key}`);
    occupancy += ts.occupancyShare;
    const need = s.resourceNeeds.get(ts);
    for (const r in need) used[r] = (used[r] ?? 0) + need[r];
  }
  if (!(Math.abs(ws.occupancy - occupancy) < 1e-9)) {
    fail(`${at}: occupancy ${ws.occupancy}, tasks sum to ${occupancy}`);
  }
  for (const ts of ws.hasWhat) {
    if (!ts.whoHas?.has(ws)) fail(`${at}: holds ${ts.key}, whose holders disagree`);
    if (ts.state !== "memory") fail(`${at}: holds ${ts.key}, which is ${ts.state}`);
    if (s.tasks.get(ts.key) !== ts) fail(`${at}: holds forgotten ${ts.key}`);
    nbytes += ts.nbytes;
  }
  if (ws.nbytes !== nbytes) fail(`${at}: nbytes ${ws.nbytes}, its keys sum to ${nbytes}`);
  for (const r of new Set([...Object.keys(ws.usedResources ?? {}), ...Object.keys(used)])) {
    const held = ws.usedResources?.[r] ?? 0;
    if (!(Math.abs(held - (used[r] ?? 0)) < 1e-9)) {
      fail(`${at}: ${r} used ${held}, its tasks need ${used[r] ?? 0}`);
    }
    if (held > (ws.info.resources?.[r] ?? 0) + 1e-9) fail(`${at}: more ${r} used than it has`);
  }
  for (const ts of ws.longRunning) {
    if (!ws.processing.has(ts)) fail(`${at}: long-running ${ts.key} is not processing there`);
    if (ts.occupancyShare !== 0) fail(`${at}: long-running ${ts.key} counts in its occupancy`);
  }
  if (!s.config.workStealing) {
    if (ws.stealable.length !== 0) fail(`${at}: stealable tasks with stealing off`);
  }
  return ws.processing.size;
}

/** How a message names a task: its key and state. */
function where(key: string, ts: TaskState): string {
  return `${key} (${ts.state})`;
}

function fail(what: string): never {
  throw new InvalidStateError(`invalid scheduler state: ${what}`);
}
