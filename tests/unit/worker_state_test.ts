/**
 * The worker's pure state machine, driven directly: a recording outbox collects every message
 * to the scheduler, every fetch per peer and every execution; invariants are checked after
 * every step (tests/fixtures/worker_sim.ts).
 */
import assert from "node:assert/strict";
import { INLINE_RESULT_MAX, LARGE_VALUE } from "../../worker/state.ts";
import type {
  MissingData,
  TaskCrashed,
  TaskErred,
  TaskFinished,
  WorkerToScheduler,
} from "../../comm/protocol.ts";
import { encodeValue, type Payload } from "../../comm/serialize.ts";
import { BOOM, bytes, checkInvariants, ct, FN, Sim } from "../fixtures/worker_sim.ts";

function finished(msgs: WorkerToScheduler[]): TaskFinished[] {
  return msgs.filter((m): m is TaskFinished => m.op === "task-finished");
}

// ------------------------------------------------------------------ running tasks

Deno.test("compute-task with no dependencies executes at once", () => {
  const x = new Sim(2);
  const msg = ct("a-1");
  x.compute(msg);
  const [run] = x.takeExecutions();
  assert.equal(run.key, "a-1");
  assert.equal(run.fnHash, FN.h);
  assert.equal(run.fnName, "inc");
  assert.equal(run.fnSource, FN.s);
  assert.equal(run.args, msg.a);
  assert.equal(run.deps.size, 0);
  assert.equal(x.state("a-1"), "executing");
  assert.equal(x.w.executing, 1);
  assert.deepEqual(x.fetched(), []);
});

Deno.test("a function received once serves later tasks that do not carry it", () => {
  const x = new Sim(2);
  x.compute(ct("a-1"));
  x.compute(ct("a-2", {}, { fn: undefined }));
  const runs = x.takeExecutions();
  assert.equal(runs[1].fnSource, FN.s);
});

Deno.test("task-finished carries nbytes and timing; the value stays here", () => {
  const x = new Sim();
  x.compute(ct("a-1"));
  const v = encodeValue({ x: 1 });
  x.done("a-1", v, 100, 250);
  const [m] = finished(x.sent());
  assert.deepEqual(m, { op: "task-finished", k: "a-1", nbytes: v.nbytes, start: 100, stop: 250 });
  assert.equal(x.state("a-1"), "memory");
  assert.equal(x.w.data.peek("a-1"), v);
  assert.equal(x.w.managedBytes, v.nbytes);
  assert.equal(x.w.executing, 0);
});

Deno.test("an error goes to the scheduler and the task is dropped", () => {
  const x = new Sim();
  x.compute(ct("a-1"));
  x.raise("a-1");
  const [m] = x.sent() as TaskErred[];
  assert.equal(m.op, "task-erred");
  assert.equal(m.k, "a-1");
  assert.deepEqual(m.e, BOOM);
  assert.equal(x.state("a-1"), "forgotten");
  assert.equal(x.w.data.size, 0);
});

Deno.test("a task whose thread died goes to the scheduler as task-crashed, not as its error", () => {
  const x = new Sim();
  x.compute(ct("a-1"));
  assert.deepEqual(x.started(), ["a-1"]);
  x.raise("a-1", BOOM, "thread 0 died: the thread exited (Deno.exit?)");
  const [m] = x.sent() as TaskCrashed[];
  assert.deepEqual(m, {
    op: "task-crashed",
    k: "a-1",
    reason: "thread 0 died: the thread exited (Deno.exit?)",
  });
  assert.equal(x.state("a-1"), "forgotten");
  // asked again, it runs again
  x.compute(ct("a-1"));
  assert.deepEqual(x.started(), ["a-1"]);
});

Deno.test("slots limit concurrent executions", () => {
  const x = new Sim(2);
  for (let i = 0; i < 5; i++) x.compute(ct(`a-${i}`, {}, { p: [0, i] }));
  assert.deepEqual(x.started(), ["a-0", "a-1"]);
  assert.equal(x.w.readyCount, 3);
  x.done("a-1");
  assert.deepEqual(x.started(), ["a-2"]);
  x.done("a-0");
  x.done("a-2");
  assert.deepEqual(x.started(), ["a-3", "a-4"]);
  assert.equal(x.w.readyCount, 0);
});

Deno.test("priorities order the ready heap", () => {
  const x = new Sim(1);
  x.compute(ct("a-0", {}, { p: [0, 0] }));
  x.compute(ct("a-1", {}, { p: [0, 5] }));
  x.compute(ct("a-2", {}, { p: [-1, 6] })); // user priority 1
  x.compute(ct("a-3", {}, { p: [0, 2] }));
  x.compute(ct("a-4", {}, { p: [1, 1] })); // user priority -1
  const order = x.started();
  for (let i = 0; i < 4; i++) {
    x.done(order.at(-1)!);
    order.push(...x.started());
  }
  assert.deepEqual(order, ["a-0", "a-2", "a-3", "a-1", "a-4"]);
});

Deno.test("setSlots: more slots start more ready tasks", () => {
  const x = new Sim(1);
  for (let i = 0; i < 4; i++) x.compute(ct(`a-${i}`, {}, { p: [0, i] }));
  assert.deepEqual(x.started(), ["a-0"]);
  x.slots(3);
  assert.deepEqual(x.started(), ["a-1", "a-2"]);
  x.slots(1);
  x.done("a-0");
  x.done("a-1");
  assert.deepEqual(x.started(), [], "fewer slots: nothing new until below the limit");
  x.done("a-2");
  assert.deepEqual(x.started(), ["a-3"]);
});

Deno.test("setPaused: no task starts while paused; running ones finish", () => {
  const x = new Sim(1);
  x.compute(ct("a-0", {}, { p: [0, 0] }));
  x.paused(true);
  x.compute(ct("a-1", {}, { p: [0, 1] }));
  x.done("a-0");
  assert.deepEqual(x.started(), ["a-0"]);
  assert.equal(finished(x.sent()).length, 1, "the running task still reports");
  assert.equal(x.state("a-1"), "ready");
  x.paused(false);
  assert.deepEqual(x.started(), ["a-1"]);
});

Deno.test("setPaused: the scheduler hears each change at once (worker-status), only changes", () => {
  const x = new Sim(2);
  x.paused(true);
  assert.deepEqual(x.sent(), [{ op: "worker-status", status: "paused" }]);
  x.paused(true);
  assert.deepEqual(x.sent(), [], "no change, no message");
  x.compute(ct("a-0"));
  assert.deepEqual(x.started(), [], "paused: nothing starts");
  x.paused(false);
  assert.deepEqual(x.sent(), [{ op: "worker-status", status: "running" }]);
  assert.deepEqual(x.started(), ["a-0"], "running again: the ready task starts");
  x.paused(false);
  assert.deepEqual(x.sent(), []);
});

// ------------------------------------------------------------------ dependencies

Deno.test("dependencies on peers: one fetch per peer, then ready", () => {
  const x = new Sim();
  x.compute(ct("b-1", { "x-1": ["p1"], "x-2": ["p1", "p2"], "x-3": ["p2"] }));
  assert.deepEqual(x.fetched(), [["p1", ["x-1", "x-2"]], ["p2", ["x-3"]]]);
  assert.equal(x.state("b-1"), "waiting");
  const v1 = encodeValue(1), v2 = encodeValue(2), v3 = encodeValue(3);
  x.got("p1", ["x-1", "x-2"], { "x-1": v1, "x-2": v2 });
  assert.equal(x.state("b-1"), "waiting");
  assert.deepEqual(x.started(), []);
  x.got("p2", ["x-3"], { "x-3": v3 });
  const [run] = x.takeExecutions();
  assert.equal(run.key, "b-1");
  assert.deepEqual([...run.deps], [["x-1", v1], ["x-2", v2], ["x-3", v3]]);
});

Deno.test("a dependency computed here is used without a fetch", () => {
  const x = new Sim();
  x.compute(ct("a-1"));
  const v = encodeValue(7);
  x.done("a-1", v);
  x.compute(ct("b-1", { "a-1": [] }));
  assert.deepEqual(x.fetched(), []);
  const runs = x.takeExecutions();
  assert.equal(runs.at(-1)!.deps.get("a-1"), v);
  x.done("b-1");
  assert.equal(x.w.data.peek("a-1"), v, "a result computed here stays until freed");
});

Deno.test("a dependency shared by two tasks is fetched once, and kept until both are done", () => {
  const x = new Sim(2);
  x.compute(ct("b-1", { "x-1": ["p1"] }));
  x.compute(ct("b-2", { "x-1": ["p1"] }));
  assert.deepEqual(x.fetched(), [["p1", ["x-1"]]]);
  x.got("p1", ["x-1"], { "x-1": encodeValue(1) });
  assert.deepEqual(x.started(), ["b-1", "b-2"]);
  x.done("b-1");
  assert.ok(x.w.data.has("x-1"), "b-2 still uses it");
  x.done("b-2");
  assert.ok(!x.w.data.has("x-1"), "dropped once no local task needs it");
  assert.deepEqual([...x.w.data.keys()].sort(), ["b-1", "b-2"]);
});

Deno.test("a dependency fetched earlier is reused by a later task while still held", () => {
  const x = new Sim(1);
  x.compute(ct("b-1", { "x-1": ["p1"] }, { p: [0, 1] }));
  x.got("p1", ["x-1"], { "x-1": encodeValue(1) });
  x.compute(ct("b-2", { "x-1": ["p1"] }, { p: [0, 2] }));
  assert.deepEqual(x.fetched(), [["p1", ["x-1"]]], "no second fetch");
  assert.equal(x.state("b-2"), "ready");
});

Deno.test("a second task joins a fetch in flight", () => {
  const x = new Sim(2);
  x.compute(ct("b-1", { "x-1": ["p1"] }));
  x.compute(ct("b-2", { "x-1": ["p2"] }));
  assert.deepEqual(x.fetched(), [["p1", ["x-1"]]]);
  x.got("p1", ["x-1"], { "x-1": encodeValue(1) });
  assert.deepEqual(x.started(), ["b-1", "b-2"]);
});

Deno.test("a peer lacking a key: the next holder is asked", () => {
  const x = new Sim();
  x.compute(ct("b-1", { "x-1": ["p1", "p2"], "x-2": ["p1"] }));
  assert.deepEqual(x.fetched(), [["p1", ["x-1", "x-2"]]]);
  x.got("p1", ["x-1", "x-2"], { "x-2": encodeValue(2) });
  assert.deepEqual(x.fetched(), [["p2", ["x-1"]]]);
  x.got("p2", ["x-1"], { "x-1": encodeValue(1) });
  assert.deepEqual(x.started(), ["b-1"]);
});

Deno.test("a failed fetch: the next holder is asked", () => {
  const x = new Sim();
  x.compute(ct("b-1", { "x-1": ["p1", "p2"] }));
  x.fetched();
  x.failed("p1", ["x-1"]);
  assert.deepEqual(x.fetched(), [["p2", ["x-1"]]]);
});

Deno.test("every holder failed: missing-data for each task that needs it; they are dropped", () => {
  const x = new Sim(2);
  x.compute(ct("b-1", { "x-1": ["p1", "p2"], "y-1": ["p3"] }));
  x.compute(ct("b-2", { "x-1": ["p1", "p2"] }));
  x.got("p3", ["y-1"], { "y-1": encodeValue(1) });
  x.failed("p1", ["x-1"]);
  x.got("p2", ["x-1"], {});
  const msgs = x.sent() as MissingData[];
  assert.deepEqual(
    msgs.map((m) => [m.op, m.k, m.key, m.worker]),
    [["missing-data", "b-1", "x-1", "p2"], ["missing-data", "b-2", "x-1", "p2"]],
  );
  assert.equal(x.w.tasks.size, 0);
  assert.equal(x.w.data.size, 0, "y-1 is dropped with the task that needed it");
  assert.deepEqual(x.started(), []);
});

Deno.test("a dependency with no holder at all: missing-data, nothing else kept", () => {
  const x = new Sim();
  // the scheduler believed x-1 was here; it is not
  x.compute(ct("b-1", { "x-1": [], "y-1": ["p1"] }));
  const [m] = x.sent() as MissingData[];
  assert.equal(m.op, "missing-data");
  assert.equal(m.k, "b-1");
  assert.equal(m.key, "x-1");
  assert.equal(x.state("b-1"), "forgotten");
  for (const [peer, keys] of x.fetched()) x.got(peer, keys, { "y-1": encodeValue(1) });
  assert.equal(x.w.data.size, 0, "nothing fetched for a dropped task is kept");
  assert.deepEqual(x.started(), []);
});

Deno.test("an answer from a peer not asked is ignored", () => {
  const x = new Sim();
  x.compute(ct("b-1", { "x-1": ["p1"] }));
  x.got("p9", ["x-1"], { "x-1": encodeValue(1) });
  assert.equal(x.state("b-1"), "waiting");
  assert.equal(x.w.data.size, 0);
});

// ------------------------------------------------------------------ free-keys

Deno.test("dropping a large value is reported (so its memory can be reclaimed), a small one not", () => {
  const x = new Sim(1);
  x.compute(ct("small-1"));
  x.done("small-1", bytes(1000));
  x.compute(ct("big-1"));
  x.done("big-1", bytes(LARGE_VALUE));
  x.free("small-1");
  assert.equal(x.out.collects, 0);
  x.free("big-1");
  assert.equal(x.out.collects, 1);
  assert.ok(!x.w.data.has("big-1"));
});

Deno.test("free-keys while executing: the outcome is dropped, not reported", () => {
  const x = new Sim(1);
  x.compute(ct("a-1", {}, { p: [0, 1] }));
  x.compute(ct("a-2", {}, { p: [0, 2] }));
  x.free("a-1");
  assert.equal(x.state("a-1"), "cancelled");
  assert.deepEqual(x.started(), ["a-1"], "the slot is still taken");
  x.done("a-1");
  assert.deepEqual(x.sent(), [], "nothing reported");
  assert.ok(!x.w.data.has("a-1"));
  assert.equal(x.state("a-1"), "forgotten");
  assert.deepEqual(x.started(), ["a-2"], "the slot went to the next task");
});

Deno.test("free-keys while executing, then an error: not reported either", () => {
  const x = new Sim(1);
  x.compute(ct("a-1"));
  x.free("a-1");
  x.raise("a-1");
  assert.deepEqual(x.sent(), []);
});

Deno.test("free-keys then compute-task again while executing: resumed, reported once", () => {
  const x = new Sim(1);
  x.compute(ct("a-1"));
  x.free("a-1");
  x.compute(ct("a-1", {}, { r: true }));
  assert.equal(x.state("a-1"), "executing");
  assert.deepEqual(x.started(), ["a-1"], "not started twice");
  x.done("a-1", encodeValue(5));
  const [m] = finished(x.sent());
  assert.equal(m.k, "a-1");
  assert.ok(m.v, "the second request wanted the value");
});

Deno.test("free-keys twice while executing, then compute-task: still one execution", () => {
  const x = new Sim(1);
  x.compute(ct("a-1"));
  x.free("a-1");
  x.free("a-1");
  assert.equal(x.state("a-1"), "cancelled");
  x.compute(ct("a-1"));
  assert.deepEqual(x.started(), ["a-1"]);
  x.done("a-1");
  assert.equal(finished(x.sent()).length, 1);
  assert.equal(x.w.executing, 0);
});

Deno.test("a cancelled task holds its inputs until it settles", () => {
  const x = new Sim(1);
  x.compute(ct("b-1", { "x-1": ["p1"] }));
  x.got("p1", ["x-1"], { "x-1": encodeValue(1) });
  x.free("b-1");
  assert.ok(x.w.data.has("x-1"));
  x.done("b-1");
  assert.equal(x.w.data.size, 0);
});

Deno.test("free-keys for data drops it", () => {
  const x = new Sim();
  x.compute(ct("a-1"));
  x.done("a-1", bytes(1000));
  assert.ok(x.w.managedBytes > 1000);
  x.free("a-1");
  assert.equal(x.w.data.size, 0);
  assert.equal(x.w.managedBytes, 0);
  assert.equal(x.state("a-1"), "forgotten");
  x.free("a-1", "never-1");
  assert.equal(x.w.managedBytes, 0);
});

Deno.test("free-keys for a waiting task drops what was fetched for it; late answers ignored", () => {
  const x = new Sim();
  x.compute(ct("b-1", { "x-1": ["p1"], "y-1": ["p2"] }));
  x.got("p1", ["x-1"], { "x-1": encodeValue(1) });
  assert.ok(x.w.data.has("x-1"));
  x.free("b-1");
  assert.equal(x.w.tasks.size, 0);
  assert.equal(x.w.data.size, 0);
  x.got("p2", ["y-1"], { "y-1": encodeValue(2) });
  assert.equal(x.w.data.size, 0, "the late answer is not kept");
  assert.deepEqual(x.started(), []);
});

Deno.test("free-keys for a ready task takes it off the heap", () => {
  const x = new Sim(1);
  x.compute(ct("a-0"));
  x.compute(ct("a-1"));
  x.free("a-1");
  assert.equal(x.w.readyCount, 0);
  x.done("a-0");
  assert.deepEqual(x.started(), ["a-0"]);
});

Deno.test("free-keys for a fetched dependency still used here keeps it", () => {
  const x = new Sim(1);
  x.compute(ct("a-0"));
  x.compute(ct("b-1", { "x-1": ["p1"] }));
  x.got("p1", ["x-1"], { "x-1": encodeValue(1) });
  x.free("x-1");
  assert.ok(x.w.data.has("x-1"));
  x.done("a-0");
  assert.equal(x.takeExecutions().at(-1)!.deps.get("x-1")?.nbytes, encodeValue(1).nbytes);
});

// ------------------------------------------------------------------ results

Deno.test("the value goes back inline only when wanted and small", () => {
  const x = new Sim(3);
  x.compute(ct("a-1", {}, { r: true }));
  x.compute(ct("a-2", {}, { r: false }));
  x.compute(ct("a-3", {}, { r: true }));
  const small = encodeValue("small");
  const big = bytes(INLINE_RESULT_MAX + 1);
  x.done("a-1", small);
  x.done("a-2", small);
  x.done("a-3", big);
  const [m1, m2, m3] = finished(x.sent());
  assert.equal(m1.v, small);
  assert.equal(m2.v, undefined);
  assert.equal(m3.v, undefined);
  assert.equal(m3.nbytes, big.nbytes);
});

Deno.test("a later compute-task that wants the value upgrades a pending one", () => {
  const x = new Sim(1);
  x.compute(ct("a-0"));
  x.compute(ct("a-1", {}, { r: false }));
  x.compute(ct("a-1", {}, { r: true }));
  x.done("a-0");
  x.done("a-1", encodeValue(1));
  assert.ok(finished(x.sent())[1].v);
});

Deno.test("compute-task for a key already in memory reports it again", () => {
  const x = new Sim();
  x.compute(ct("a-1"));
  x.done("a-1", encodeValue(3));
  x.sent();
  x.compute(ct("a-1", {}, { r: true }));
  const [m] = finished(x.sent());
  assert.equal(m.k, "a-1");
  assert.ok(m.v);
  assert.deepEqual(x.started(), ["a-1"], "not run again");
});

Deno.test("an outcome for a task not running is ignored", () => {
  const x = new Sim(1);
  x.compute(ct("a-0"));
  x.compute(ct("a-1"));
  x.w.taskDone("zz-1", { ok: true, value: encodeValue(1) }, 0, 1);
  x.w.taskDone("a-1", { ok: true, value: encodeValue(1) }, 0, 1); // ready, not running
  checkInvariants(x.w, x.running);
  assert.equal(x.state("a-1"), "ready");
  assert.equal(x.w.executing, 1);
  assert.deepEqual(x.sent(), []);
});

// ------------------------------------------------------------------ work stealing

function stealAnswers(msgs: WorkerToScheduler[]): [string, string | null][] {
  return msgs.flatMap((m) => m.op === "steal-response" ? [[m.k, m.state] as const] : []) as [
    string,
    string | null,
  ][];
}

// Dask: WorkerState._handle_steal_request (worker_state_machine.py): a task not started is given up
Deno.test("steal-request for a ready task: dropped, answered 'ready', never started", () => {
  const x = new Sim(1);
  x.compute(ct("a-0"));
  x.compute(ct("a-1"));
  x.sent();
  x.steal("a-1");
  assert.deepEqual(stealAnswers(x.sent()), [["a-1", "ready"]]);
  assert.equal(x.state("a-1"), "forgotten");
  assert.equal(x.w.readyCount, 0);
  x.done("a-0");
  assert.deepEqual(x.started(), ["a-0"], "the stolen task never runs here");
  assert.deepEqual(finished(x.sent()).map((m) => m.k), ["a-0"]);
});

Deno.test("steal-request for a task fetching its inputs: dropped; late data not kept", () => {
  const x = new Sim(1);
  x.compute(ct("b-1", { "x-1": ["p1"], "y-1": ["p2"] }));
  x.got("p1", ["x-1"], { "x-1": encodeValue(1) });
  x.steal("b-1");
  assert.deepEqual(stealAnswers(x.sent()), [["b-1", "waiting"]]);
  assert.equal(x.w.tasks.size, 0);
  assert.equal(x.w.data.size, 0, "what was fetched for it goes too");
  x.got("p2", ["y-1"], { "y-1": encodeValue(2) });
  assert.equal(x.w.data.size, 0, "the late answer is not kept");
  assert.deepEqual(x.started(), []);
});

// Dask: test_steal.py::test_dont_steal_executing_tasks — a started task stays and reports once
Deno.test("steal-request for an executing task: refused, it finishes and reports once", () => {
  const x = new Sim(1);
  x.compute(ct("a-0"));
  x.steal("a-0");
  assert.deepEqual(stealAnswers(x.sent()), [["a-0", "executing"]]);
  assert.equal(x.state("a-0"), "executing");
  x.done("a-0");
  assert.deepEqual(finished(x.sent()).map((m) => m.k), ["a-0"]);
});

Deno.test("steal-request for a finished or unknown task: its state, nothing changes", () => {
  const x = new Sim(1);
  x.compute(ct("a-0"));
  x.done("a-0");
  x.sent();
  x.steal("a-0");
  x.steal("zzz-1");
  assert.deepEqual(stealAnswers(x.sent()), [["a-0", "memory"], ["zzz-1", null]]);
  assert.ok(x.w.data.has("a-0"), "its value stays");
});

Deno.test("steal-request for a cancelled (freed while running) task: kept until it settles", () => {
  const x = new Sim(1);
  x.compute(ct("a-0"));
  x.free("a-0");
  x.steal("a-0");
  assert.deepEqual(stealAnswers(x.sent()), [["a-0", "cancelled"]]);
  x.done("a-0");
  assert.deepEqual(finished(x.sent()), []);
});

// ------------------------------------------------------------------ randomized

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("randomized stimuli keep every invariant and leak nothing", () => {
  for (let seed = 1; seed <= 150; seed++) {
    const r = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
    const x = new Sim(1 + Math.floor(r() * 3));
    const peers = ["p1", "p2", "p3"];
    const pending: [string, string[]][] = [];
    let n = 0;
    const keys = () => [...x.w.tasks.keys()];
    for (let step = 0; step < 300; step++) {
      pending.push(...x.fetched());
      const op = r();
      if (op < 0.3) {
        const d: Record<string, string[]> = {};
        const nd = Math.floor(r() * 3);
        for (let i = 0; i < nd; i++) {
          const local = keys().filter((k) => x.state(k) === "memory");
          if (local.length && r() < 0.3) d[pick(local)] = [];
          else d[`x-${Math.floor(r() * 8)}`] = peers.filter(() => r() < 0.6);
        }
        const known = keys();
        const k = known.length && r() < 0.1 ? pick(known) : `t-${n++}`;
        x.compute(ct(k, d, { p: [Math.floor(r() * 3) - 1, n], r: r() < 0.5 }));
      } else if (op < 0.5 && pending.length) {
        const [peer, asked] = pending.splice(Math.floor(r() * pending.length), 1)[0];
        if (r() < 0.15) x.failed(peer, asked);
        else {
          const values: Record<string, Payload> = {};
          for (const k of asked) if (r() < 0.8) values[k] = encodeValue(k);
          x.got(peer, asked, values);
        }
      } else if (op < 0.7 && x.running.size) {
        const k = pick([...x.running]);
        if (r() < 0.2) x.raise(k);
        else x.done(k, r() < 0.1 ? bytes(2000) : encodeValue(k));
      } else if (op < 0.85) {
        const ks = [...keys(), ...x.w.data.keys()];
        if (ks.length) x.free(pick(ks));
      } else if (op < 0.9) {
        x.paused(r() < 0.3);
      } else if (op < 0.93) {
        x.slots(1 + Math.floor(r() * 3));
      } else if (op < 0.97) {
        const ks = keys();
        if (ks.length) x.steal(r() < 0.9 ? pick(ks) : "nope-1");
      }
    }
    // drain: everything is answered and finishes
    x.paused(false);
    for (let i = 0; i < 1000; i++) {
      pending.push(...x.fetched());
      if (!pending.length && !x.running.size) break;
      for (const [peer, asked] of pending.splice(0)) {
        x.got(peer, asked, Object.fromEntries(asked.map((k) => [k, encodeValue(k)])));
      }
      for (const k of [...x.running]) x.done(k);
    }
    for (const [k, ts] of x.w.tasks) {
      assert.equal(ts.state, "memory", `seed ${seed}: ${k} stuck in ${ts.state}`);
    }
    x.free(...keys());
    assert.equal(x.w.tasks.size, 0, `seed ${seed}: tasks left`);
    assert.equal(x.w.data.size, 0, `seed ${seed}: data left: ${[...x.w.data.keys()]}`);
    assert.equal(x.w.managedBytes, 0);
    assert.equal(x.w.executing, 0);
  }
});

// ------------------------------------------------------------------ replicas

Deno.test("replicas are kept until freed, also after a local task used them", () => {
  const x = new Sim();
  const v = encodeValue(5);
  assert.deepEqual(x.hold({ "x-1": v }), ["x-1"]);
  assert.equal(x.w.data.peek("x-1"), v);
  assert.equal(x.w.managedBytes, v.nbytes);
  // a task using it finds it local and does not drop it when done
  x.compute(ct("b-1", { "x-1": [] }));
  assert.deepEqual(x.fetched(), []);
  x.done("b-1");
  assert.ok(x.w.data.has("x-1"), "a replica outlives the tasks that used it");
  x.free("x-1");
  assert.ok(!x.w.data.has("x-1"));
  assert.equal(x.w.heldReplicas.size, 0);
});

Deno.test("a fetched dependency becomes a replica; a key computed here is reported as held", () => {
  const x = new Sim();
  x.compute(ct("b-1", { "x-1": ["p1"] }));
  const v = encodeValue(1);
  x.got("p1", ["x-1"], { "x-1": v });
  assert.deepEqual(x.hold({ "x-1": encodeValue(1) }), ["x-1"]);
  assert.equal(x.w.data.peek("x-1"), v, "the copy already here is kept");
  x.done("b-1");
  assert.ok(x.w.data.has("x-1"), "kept as a replica after b-1");
  assert.deepEqual(x.hold({ "b-1": encodeValue("other") }), ["b-1"], "already in memory here");
  assert.ok(!x.w.heldReplicas.has("b-1"), "it is this worker's own result");
  // a key being computed here is not taken as a replica
  x.compute(ct("c-1"));
  assert.deepEqual(x.hold({ "c-1": encodeValue(0) }), []);
  // freeing the replica drops it
  x.free("x-1");
  assert.ok(!x.w.data.has("x-1"));
});

// ------------------------------------------------------------------ secede / rejoin

// Dask: test_client.py::test_secede_simple (worker side) — a seceded task frees its slot.
Deno.test("secede: the slot goes to the next task; the scheduler hears long-running", () => {
  const x = new Sim(1);
  x.compute(ct("p-0", {}, { p: [0, 0] }));
  x.compute(ct("s-1", {}, { p: [0, 1] }));
  assert.deepEqual(x.started(), ["p-0"]);
  x.sent();
  x.secede("p-0");
  assert.deepEqual(x.sent(), [{ op: "long-running", k: "p-0" }]);
  assert.deepEqual(x.started(), ["s-1"]);
  x.secede("p-0"); // twice: nothing more
  assert.deepEqual(x.sent(), []);
  x.done("p-0"); // a seceded task finishing frees no slot it does not hold
  assert.equal(x.w.executing, 1);
  assert.equal(finished(x.sent())[0].k, "p-0");
  x.done("s-1");
  assert.equal(x.w.executing, 0);
});

// Dask: test_worker_client.py::test_worker_client_rejoins — rejoin waits for a free slot.
Deno.test("rejoin: granted at once when a slot is free, else when one frees, in order", () => {
  const x = new Sim(1);
  for (const [i, k] of ["p-0", "q-1", "s-2", "s-3"].entries()) x.compute(ct(k, {}, { p: [0, i] }));
  x.secede("p-0");
  x.secede("q-1");
  assert.deepEqual(x.started(), ["p-0", "q-1", "s-2"]);
  x.rejoin("q-1");
  x.rejoin("p-0");
  assert.deepEqual(x.out.rejoins, [], "no slot is free");
  x.done("s-2");
  assert.deepEqual(x.out.rejoins, ["q-1"], "the first to ask, before ready tasks");
  assert.deepEqual(x.started(), []);
  x.done("q-1");
  assert.deepEqual(x.out.rejoins, ["q-1", "p-0"]);
  x.done("p-0");
  assert.deepEqual(x.started(), ["s-3"]);
  x.rejoin("s-3"); // not seceded: granted at once, nothing changes
  assert.deepEqual(x.out.rejoins, ["q-1", "p-0", "s-3"]);
  x.done("s-3");
});

Deno.test("a seceded task that finishes while waiting to rejoin leaves the queue", () => {
  const x = new Sim(1);
  x.compute(ct("p-0", {}, { p: [0, 0] }));
  x.compute(ct("s-1", {}, { p: [0, 1] }));
  x.secede("p-0");
  x.rejoin("p-0");
  x.raise("p-0");
  x.done("s-1");
  assert.deepEqual(x.out.rejoins, []);
  assert.equal(x.w.executing, 0);
});

Deno.test("a seceded task freed by the scheduler: its outcome is dropped, no slot is lost", () => {
  const x = new Sim(1);
  x.compute(ct("p-0", {}, { p: [0, 0] }));
  x.secede("p-0");
  x.free("p-0");
  x.compute(ct("s-1", {}, { p: [0, 1] }));
  assert.deepEqual(x.started(), ["p-0", "s-1"]);
  x.sent();
  x.done("p-0");
  assert.deepEqual(finished(x.sent()), []);
  x.done("s-1");
  assert.equal(x.w.executing, 0);
});
