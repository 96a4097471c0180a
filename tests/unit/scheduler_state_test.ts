/**
 * The scheduler's pure state machine, driven directly through the shared harness
 * (tests/fixtures/scheduler_harness.ts).
 */
import { SmallSet } from "../../scheduler/small_set.ts";
import assert from "node:assert/strict";
import { FN, t } from "../fixtures/task_specs.ts";
import { SLAB_MAX } from "../../scheduler/arg_slab.ts";
import type { SchedulerConfig } from "../../scheduler/state.ts";
import { runsBefore, TASK_STATES, TaskState, WorkerState } from "../../scheduler/task_state.ts";
import { validateState } from "../../scheduler/validate_state.ts";
import { pickRootWorker, pickWorker, taskSlots } from "../../scheduler/placement.ts";
import type { KeyInMemory, KeysCancelled, TaskSpec } from "../../comm/protocol.ts";
import { encodeValue, Payload } from "../../comm/serialize.ts";
import { type Move, planRebalance, planReplicate } from "../../scheduler/replicas.ts";
import {
  BOOM,
  cancelled,
  erred,
  FN2,
  inMemory,
  rng,
  Sim,
  sim,
} from "../fixtures/scheduler_harness.ts";

// ------------------------------------------------------------------ basic transitions

Deno.test("released → waiting → processing: compute-task carries function, args, priority", () => {
  const x = sim([2]);
  x.submit([t("x-1", [], { p: 3 })]);
  assert.equal(x.state("x-1"), "processing");
  const [m] = x.computes("a");
  assert.equal(m.k, "x-1");
  assert.equal(m.f, FN.h);
  assert.deepEqual(m.fn, FN);
  assert.deepEqual(m.d, {});
  assert.deepEqual(m.p, [-3, 0, 1], "(minus user priority, generation, order)");
  assert.equal(m.r, true, "a client wants it: the value comes back inline");
  assert.ok(m.a.header.byteLength > 0);
  assert.equal(x.s.counts.processing, 1);
  assert.equal(x.task("x-1").prefix, "x");
});

Deno.test("a task waits for its dependencies, then runs where they are", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1"), t("b-1", ["a-1"])], ["b-1"]);
  assert.deepEqual(x.states(["a-1", "b-1"]), ["processing", "waiting"]);
  assert.deepEqual([...x.task("b-1").waitingOn()].map((d) => d.key), ["a-1"]);
  const w = x.on("a-1");
  assert.equal(x.computes(w)[0].r, false, "nobody wants a-1's value itself");
  x.finish("a-1", w, 1000);
  assert.deepEqual(x.states(["a-1", "b-1"]), ["memory", "processing"]);
  assert.equal(x.on("b-1"), w, "runs where its input is");
  const [m] = x.computes(w);
  assert.deepEqual(m.d, { "a-1": [] }, "the input is local");
  assert.equal(m.fn, undefined, "the function was already sent to this worker");
});

Deno.test("no worker: ready tasks are no-worker until a worker joins", () => {
  const x = new Sim();
  x.addClient("c");
  x.submit([t("a-1"), t("a-2"), t("b-1", ["a-1"])], ["a-2", "b-1"]);
  assert.deepEqual(x.states(["a-1", "a-2", "b-1"]), ["no-worker", "no-worker", "waiting"]);
  assert.equal(x.s.unrunnable.size, 2);
  x.addWorker("w", 2);
  assert.deepEqual(x.states(["a-1", "a-2", "b-1"]), ["processing", "processing", "waiting"]);
  assert.deepEqual(x.computed("w"), ["a-1", "a-2"], "in priority order");
});

Deno.test("no-worker tasks go to a joining worker in priority order; the rest queue", () => {
  const x = new Sim({ workerSaturation: 1 });
  x.addClient("c");
  x.submit(Array.from({ length: 6 }, (_, i) => t(`r-${i}`)));
  assert.equal(x.s.counts["no-worker"], 6);
  x.addWorker("w", 2);
  assert.deepEqual(x.computed("w"), ["r-0", "r-1"]);
  assert.equal(x.s.counts.queued, 4);
  x.finish("r-0");
  assert.deepEqual(x.computed("w"), ["r-2"]);
});

Deno.test("processing → memory: the client hears key-in-memory with the inline value", () => {
  const x = sim();
  x.submit([t("a-1")]);
  const v = encodeValue(42);
  x.finish("a-1", "a", v.nbytes, v);
  const [m] = x.takeClient();
  assert.equal(m.op, "key-in-memory");
  assert.equal((m as KeyInMemory).k, "a-1");
  assert.deepEqual((m as KeyInMemory).w, ["a"]);
  assert.equal((m as KeyInMemory).v, v);
  assert.equal(x.s.tasksCompleted, 1);
  assert.equal(x.s.durations.get("a"), 0.01);
  assert.equal(x.task("a-1").nbytes, v.nbytes);
  assert.equal(x.s.workers.get("a")!.nbytes, v.nbytes);
});

Deno.test("processing → erred without retries: key-erred blames the task itself", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.err("a-1");
  assert.equal(x.state("a-1"), "erred");
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "a-1");
  assert.equal(e.blame, "a-1");
  assert.deepEqual(e.e, BOOM);
  assert.equal(x.processingCount("a"), 0);
});

Deno.test("processing → erred with retries: run again until the retries are spent", () => {
  const x = sim();
  x.submit([t("a-1", [], { r: 2 })]);
  assert.deepEqual(x.computed("a"), ["a-1"]);
  x.err("a-1");
  assert.equal(x.state("a-1"), "processing");
  assert.deepEqual(x.computed("a"), ["a-1"], "sent again");
  assert.deepEqual(x.takeClient(), [], "the client hears nothing yet");
  x.err("a-1");
  assert.equal(x.state("a-1"), "processing");
  x.err("a-1");
  assert.equal(x.state("a-1"), "erred");
  assert.equal(erred(x.takeClient()).length, 1);
});

Deno.test("a retried task with dependencies waits for them again only if they are gone", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1", ["a-1"], { r: 1 })], ["b-1"]);
  x.finish("a-1");
  x.err("b-1");
  assert.deepEqual(x.states(["a-1", "b-1"]), ["memory", "processing"]);
  x.finish("b-1");
  assert.deepEqual(x.states(["a-1", "b-1"]), ["released", "memory"]);
});

Deno.test("erred propagates to every dependent with blame; unneeded siblings stop", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("s-1"), t("b-1", ["a-1", "s-1"]), t("c-1", ["b-1"])], ["c-1"]);
  const sib = x.on("s-1");
  x.flush();
  x.err("a-1", x.on("a-1"), { name: "TypeError", message: "bad" });
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["erred", "erred", "erred"]);
  assert.equal(x.state("s-1"), "released", "the sibling is no longer needed");
  assert.deepEqual(x.freed(sib), ["s-1"], "its worker is told to drop it");
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "c-1");
  assert.equal(e.blame, "a-1");
  assert.equal(e.e.name, "TypeError");
  assert.equal(x.task("b-1").blame!.key, "a-1");
  x.release(["c-1"]);
  assert.equal(x.s.tasks.size, 0, "everything is forgotten");
});

Deno.test("a task submitted on top of an erred key errs at once with the same blame", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.err("a-1");
  x.takeClient();
  x.submit([t("b-1", ["a-1"])]);
  assert.equal(x.state("b-1"), "erred");
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "b-1");
  assert.equal(e.blame, "a-1");
  assert.deepEqual(x.computed("a"), ["a-1"], "nothing new runs");
});

Deno.test("memory → released when nobody needs it; released → forgotten cascades", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1", ["a-1"]), t("c-1", ["b-1"])], ["c-1"]);
  x.finish("a-1");
  x.finish("b-1");
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["released", "memory", "processing"]);
  assert.deepEqual(x.freed("a"), ["a-1"], "a-1's data is dropped once b-1 has run");
  x.finish("c-1");
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["released", "released", "memory"]);
  assert.deepEqual(x.freed("a"), ["b-1"]);
  x.release(["c-1"]);
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["forgotten", "forgotten", "forgotten"]);
  assert.deepEqual(x.freed("a"), ["c-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.equal(x.s.clients.has("c"), true);
  assert.deepEqual(x.wantedBy("c"), []);
});

Deno.test("client release while processing stops the work and frees the worker's slot", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("a-1"), t("a-2"), t("a-3")]); // more than 2 per thread: root-ish, so they queue
  assert.deepEqual(x.states(["a-1", "a-2"]), ["processing", "queued"]);
  x.flush();
  x.release(["a-1"]);
  assert.equal(x.state("a-1"), "forgotten");
  assert.deepEqual(x.freed("a"), ["a-1"]);
  assert.equal(x.state("a-2"), "processing", "the slot went to the queued task");
});

Deno.test("client release while waiting stops its dependencies too (stop unnecessary work)", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1"), t("a-2"), t("b-1", ["a-1", "a-2"])], ["b-1"]);
  x.finish("a-1", x.on("a-1"));
  const w2 = x.on("a-2");
  const w1 = x.holders("a-1")[0];
  x.flush();
  x.release(["b-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.ok(x.freed(w2).includes("a-2"), "the running dependency is cancelled");
  if (w1 !== w2) assert.deepEqual(x.freed(w1), ["a-1"], "the finished one is dropped");
});

Deno.test("client release of a queued task", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("a-1"), t("a-2"), t("a-3")]);
  x.release(["a-2"]);
  assert.deepEqual(x.states(["a-1", "a-2", "a-3"]), ["processing", "forgotten", "queued"]);
  x.finish("a-1");
  assert.equal(x.state("a-3"), "processing");
});

Deno.test("client release of a no-worker task", () => {
  const x = new Sim();
  x.addClient("c");
  x.submit([t("a-1")]);
  x.release(["a-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.equal(x.s.unrunnable.size, 0);
});

Deno.test("a key wanted by two clients lives until both release it", () => {
  const x = sim();
  x.addClient("d");
  x.submit([t("a-1")], ["a-1"], "c");
  x.submit([t("a-1")], ["a-1"], "d");
  x.finish("a-1");
  assert.deepEqual(inMemory(x.takeClient("c")), ["a-1"]);
  assert.deepEqual(inMemory(x.takeClient("d")), ["a-1"]);
  x.release(["a-1"], "c");
  assert.equal(x.state("a-1"), "memory");
  x.release(["a-1"], "c");
  assert.equal(x.state("a-1"), "memory", "a second release by the same client is ignored");
  x.release(["a-1"], "d");
  assert.equal(x.state("a-1"), "forgotten");
});

Deno.test("client disconnect releases everything it wanted, and only that", () => {
  const x = sim([2], { workerSaturation: Infinity });
  x.addClient("d");
  x.submit([t("a-1"), t("b-1", ["a-1"]), t("s-1")], ["b-1", "s-1"], "c");
  x.submit([t("s-1")], ["s-1"], "d");
  x.finish("a-1");
  x.flush();
  x.removeClient("c");
  assert.deepEqual(x.states(["a-1", "b-1", "s-1"]), ["forgotten", "forgotten", "processing"]);
  assert.deepEqual(x.freed("a").sort(), ["a-1", "b-1"]);
  assert.equal(x.s.clients.has("c"), false);
  x.removeClient("c");
  x.removeClient("d");
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("resubmitting a key in memory reuses it: no recompute", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.finish("a-1");
  x.flush();
  x.submit([t("a-1")]);
  assert.deepEqual(x.computed("a"), []);
  assert.deepEqual(inMemory(x.takeClient()), ["a-1"]);
  x.addClient("d");
  x.submit([t("a-1")], ["a-1"], "d");
  assert.deepEqual(inMemory(x.takeClient("d")), ["a-1"]);
  assert.deepEqual(x.computed("a"), []);
});

Deno.test("resubmitting an erred key returns the same error: no recompute", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.err("a-1");
  x.flush();
  x.submit([t("a-1")]);
  assert.deepEqual(x.computed("a"), []);
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "a-1");
  assert.deepEqual(e.e, BOOM);
});

Deno.test("resubmitting a key still in a graph: reused while pending", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("a-1"), t("a-2"), t("a-3")]);
  x.addClient("d");
  x.submit([t("a-2")], ["a-2"], "d");
  assert.equal(x.state("a-2"), "queued");
  x.finish("a-1");
  x.finish("a-2");
  assert.deepEqual(inMemory(x.takeClient("d")), ["a-2"]);
});

Deno.test("wanting a released intermediate computes it again from its lineage", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1", ["a-1"])], ["b-1"]);
  x.finish("a-1");
  x.finish("b-1");
  assert.equal(x.state("a-1"), "released");
  x.flush();
  x.submit([t("a-1")]);
  assert.equal(x.state("a-1"), "processing");
  assert.deepEqual(x.computed("a"), ["a-1"]);
});

Deno.test("a dependency unknown to the scheduler: the task errs with CancelledError", () => {
  const x = sim();
  x.submit([t("b-1", ["gone-1"])]);
  assert.equal(x.state("b-1"), "erred");
  const [e] = erred(x.takeClient());
  assert.equal(e.e.name, "CancelledError");
  assert.match(e.e.message, /gone-1/);
  assert.equal(e.blame, "b-1");
  assert.deepEqual(x.computed("a"), []);
  x.release(["b-1"]);
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("a dependency listed later in the same graph is not unknown", () => {
  const x = sim();
  x.submit([t("b-1", ["a-1"]), t("a-1")], ["b-1"]);
  assert.deepEqual(x.states(["a-1", "b-1"]), ["processing", "waiting"]);
});

Deno.test("a function the client never sent: the task errs with ProtocolError", () => {
  const x = sim();
  x.submit([t("a-1", [], { f: "nope" })], ["a-1"], "c", []);
  assert.equal(x.state("a-1"), "erred");
  assert.equal(erred(x.takeClient())[0].e.name, "ProtocolError");
});

Deno.test("tasks nobody wants or needs are not kept", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1")], ["b-1"]);
  assert.equal(x.state("a-1"), "forgotten");
  assert.equal(x.state("b-1"), "processing");
});

Deno.test("a task submitted without a connected client is not kept", () => {
  const x = sim();
  x.submit([t("a-1")], ["a-1"], "ghost");
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("requestValues: memory, erred, unknown", () => {
  const x = sim([2]);
  x.submit([t("a-1"), t("b-1")]);
  x.finish("a-1");
  x.err("b-1");
  x.flush();
  x.requestValues(["a-1", "b-1", "zz-1"]);
  const msgs = x.takeClient();
  assert.deepEqual(inMemory(msgs), ["a-1"]);
  assert.deepEqual(erred(msgs).map((m) => m.k), ["b-1"]);
  assert.deepEqual(cancelled(msgs), ["zz-1"]);
});

Deno.test("only the value of a task a client wants is asked back inline", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1", ["a-1"])], ["b-1"]);
  assert.equal(x.computes("a")[0].r, false);
  x.finish("a-1");
  assert.equal(x.computes("a")[0].r, true);
});

// ------------------------------------------------------------------ stale and odd messages

Deno.test("a late task-finished for a released task: the worker is told to drop it", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.release(["a-1"]);
  x.flush();
  x.finish("a-1", "a");
  assert.equal(x.state("a-1"), "forgotten");
  assert.deepEqual(x.freed("a"), ["a-1"]);
});

Deno.test("task-finished from another worker: it holds the value; the assignee is told to stop", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1")]);
  const w = x.on("a-1");
  const other = w === "a" ? "b" : "a";
  x.flush();
  x.finish("a-1", other);
  assert.deepEqual(x.holders("a-1"), [other]);
  assert.deepEqual(x.freed(w), ["a-1"]);
});

Deno.test("task-finished for a key already in memory adds a replica", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1")]);
  const w = x.on("a-1");
  const other = w === "a" ? "b" : "a";
  x.finish("a-1", w, 100);
  x.finish("a-1", other, 100);
  assert.deepEqual(x.holders("a-1"), ["a", "b"]);
  assert.equal(x.s.workers.get(other)!.nbytes, 100);
  assert.equal(x.s.tasksCompleted, 1);
  x.release(["a-1"]);
  assert.equal(x.s.workers.get(other)!.nbytes, 0);
});

Deno.test("task-erred from a worker not running the task is ignored", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1")]);
  const w = x.on("a-1");
  x.err("a-1", w === "a" ? "b" : "a");
  assert.equal(x.state("a-1"), "processing");
  x.err("zz-1", w);
  x.s.taskErred("nobody", { op: "task-erred", k: "a-1", e: BOOM, start: 0, stop: 0 });
  validateState(x.s);
  assert.equal(x.state("a-1"), "processing");
});

Deno.test("messages from an unknown worker are ignored", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.s.taskFinished("nobody", { op: "task-finished", k: "a-1", nbytes: 1, start: 0, stop: 1 });
  x.s.missingData("nobody", "a-1", "zz", "nobody");
  validateState(x.s);
  assert.equal(x.state("a-1"), "processing");
  x.s.removeWorker("nobody", "never was");
  x.s.removeClient("nobody");
  x.s.releaseKeys("nobody", ["a-1"]);
  validateState(x.s);
  assert.equal(x.state("a-1"), "processing");
});

// ------------------------------------------------------------------ queuing (dask-reference §2.5)

Deno.test("test_saturation_factor: workers with 2 and 1 threads, 10 root tasks", () => {
  const table: [number, [number, number]][] = [
    [2.5, [5, 3]],
    [2.0, [4, 2]],
    [1.1, [3, 2]],
    [1.0, [2, 1]],
    [0.1, [1, 1]],
  ];
  for (const [saturation, expected] of table) {
    const x = sim([2, 1], { workerSaturation: saturation });
    x.submit(Array.from({ length: 10 }, (_, i) => t(`r-${i}`)));
    assert.deepEqual(
      [x.processingCount("a"), x.processingCount("b")],
      expected,
      `saturation ${saturation}`,
    );
    assert.equal(x.s.counts.queued, 10 - expected[0] - expected[1]);
  }
  const x = sim([2, 1], { workerSaturation: Infinity });
  x.submit(Array.from({ length: 10 }, (_, i) => t(`r-${i}`)));
  assert.equal(x.processingCount("a") + x.processingCount("b"), 10, "Infinity assigns all");
  assert.ok(x.processingCount("a") > x.processingCount("b"), "by occupancy per thread");
  assert.equal(x.s.counts.queued, 0);
});

Deno.test("queued → processing when a slot frees, in priority order", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit(Array.from({ length: 4 }, (_, i) => t(`r-${i}`)));
  assert.deepEqual(x.computed("a"), ["r-0"]);
  for (let i = 1; i < 4; i++) {
    x.finish(`r-${i - 1}`);
    assert.deepEqual(x.computed("a"), [`r-${i}`]);
  }
});

Deno.test("a slot freed by an error or a release also takes a queued task", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("r-0"), t("r-1"), t("r-2")]);
  x.err("r-0");
  assert.equal(x.state("r-1"), "processing");
  x.release(["r-1"]);
  assert.equal(x.state("r-2"), "processing");
});

Deno.test("a joining worker takes queued tasks up to its slots", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit(Array.from({ length: 5 }, (_, i) => t(`r-${i}`)));
  x.addWorker("b", 3);
  assert.deepEqual(x.computed("b"), ["r-1", "r-2", "r-3"]);
  assert.equal(x.s.counts.queued, 1);
});

Deno.test("tasks with dependencies never queue; a finished root's dependent runs before new roots", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("a-1"), t("a-2"), t("a-3"), t("b-1", ["a-1"])], ["a-2", "a-3", "b-1"]);
  assert.deepEqual(x.states(["a-1", "a-2", "b-1"]), ["processing", "queued", "waiting"]);
  x.finish("a-1");
  assert.deepEqual(x.computed("a"), ["a-1", "b-1"], "b-1 takes the slot (depth first)");
  assert.equal(x.state("a-2"), "queued");
  x.finish("b-1");
  assert.deepEqual(x.computed("a"), ["a-2"]);
});

// ------------------------------------------------------------------ priorities

Deno.test("priorities: submission order within a graph", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("r-0"), t("r-1"), t("r-2")]);
  assert.deepEqual(x.computed("a"), ["r-0"]);
  x.finish("r-0");
  x.finish("r-1");
  assert.deepEqual(x.computed("a"), ["r-1", "r-2"]);
});

Deno.test("priorities: user priority first, then submission order", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("r-0")]);
  x.submit([t("r-1"), t("r-2", [], { p: 5 }), t("r-3"), t("r-4", [], { p: 5 })]);
  x.submit([t("r-5", [], { p: 10 }), t("r-6", [], { p: -1 })]);
  const order = [x.computed("a")[0]];
  for (let i = 0; i < 6; i++) {
    x.finish(order.at(-1)!);
    order.push(...x.computed("a"));
  }
  assert.deepEqual(order, ["r-0", "r-5", "r-2", "r-4", "r-1", "r-3", "r-6"]);
});

Deno.test("priorities: dependencies of a graph start in submission order", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("r-0"), t("r-1"), t("r-2"), t("s-1", ["r-0", "r-1", "r-2"])], ["s-1"]);
  assert.deepEqual(x.computed("a"), ["r-0"]);
});

// ------------------------------------------------------------------ placement

Deno.test("placement: root tasks go to the least busy worker", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("r-0"), t("r-1"), t("r-2"), t("r-3")]);
  assert.equal(x.processingCount("a"), 2);
  assert.equal(x.processingCount("b"), 2);
});

Deno.test("placement: data locality first, even on a busier worker", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1")]);
  const w = x.on("a-1");
  x.finish("a-1", w, 10);
  x.submit([t("r-1"), t("r-2"), t("r-3")]);
  x.submit([t("b-1", ["a-1"])]);
  assert.equal(x.on("b-1"), w);
});

Deno.test("placement: the worker holding most input bytes wins", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("a-2")]);
  const w1 = x.on("a-1"), w2 = x.on("a-2");
  assert.notEqual(w1, w2);
  x.finish("a-1", w1, 50e6);
  x.finish("a-2", w2, 1e3);
  x.submit([t("b-1", ["a-1", "a-2"])]);
  assert.equal(x.on("b-1"), w1);
  const [m] = x.computes(w1).filter((c) => c.k === "b-1");
  assert.deepEqual(m.d, { "a-1": [], "a-2": [w2] });
});

Deno.test("placement: among holders with equal bytes, the least occupied", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("a-2")]);
  const w1 = x.on("a-1"), w2 = x.on("a-2");
  x.finish("a-1", w1, 1000);
  x.finish("a-2", w2, 1000);
  x.submit([t("r-1")]); // lands on one of them
  const busy = x.on("r-1");
  x.submit([t("b-1", ["a-1", "a-2"])]);
  assert.equal(x.on("b-1"), busy === w1 ? w2 : w1);
});

Deno.test("placement: occupancy counts the expected duration of each task prefix", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("slow-1")]);
  const w = x.on("slow-1");
  x.s.taskFinished(w, { op: "task-finished", k: "slow-1", nbytes: 1, start: 0, stop: 9000 });
  validateState(x.s);
  assert.equal(x.s.durations.get("slow"), 9);
  x.submit([t("slow-2")]);
  assert.equal(x.task("slow-2").occupancyShare, 9);
  assert.equal(x.s.workers.get(x.on("slow-2"))!.occupancy, 9);
  x.submit([t("quick-1"), t("quick-2")]);
  assert.notEqual(x.on("quick-1"), x.on("slow-2"));
  assert.notEqual(x.on("quick-2"), x.on("slow-2"));
});

Deno.test("function source is sent once per worker", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("a-2"), t("a-3"), t("a-4"), t("f-1", [], { f: FN2.h })]);
  const all = [...x.computes("a"), ...x.computes("b")];
  const withFn = all.filter((m) => m.fn);
  assert.equal(all.length, 5);
  assert.equal(withFn.filter((m) => m.f === FN.h).length, 2, "once for each worker");
  assert.equal(withFn.filter((m) => m.f === FN2.h).length, 1);
  // a worker that comes back under the same address is a new worker: it gets it again
  x.removeWorker("a", true);
  x.addWorker("a", 1);
  x.submit([t("a-5"), t("a-6")]);
  assert.ok(x.computes("a").some((m) => m.fn?.h === FN.h));
});

// ------------------------------------------------------------------ restrictions

Deno.test("restrictions: a task runs only on the workers it names (address or name)", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.addWorker("tcp://c", 1, "gpu");
  x.submit([t("r-1", [], { w: ["b"] }), t("r-2", [], { w: ["gpu"] })]);
  assert.equal(x.on("r-1"), "b");
  assert.equal(x.on("r-2"), "tcp://c");
});

Deno.test("restrictions: no allowed worker means no-worker, until one joins", () => {
  const x = sim([1]);
  x.submit([t("r-1", [], { w: ["z"] }), t("b-1", ["r-1"])], ["b-1"]);
  assert.deepEqual(x.states(["r-1", "b-1"]), ["no-worker", "waiting"]);
  x.addWorker("y");
  assert.equal(x.state("r-1"), "no-worker");
  x.addWorker("z");
  assert.equal(x.on("r-1"), "z");
  x.removeWorker("z");
  assert.equal(x.state("r-1"), "no-worker", "its only worker left");
});

Deno.test("restrictions: a loose restriction runs elsewhere when no allowed worker is there", () => {
  const x = sim([1]);
  x.submit([t("r-1", [], { w: ["z"], lo: true })]);
  assert.equal(x.on("r-1"), "a");
  x.addWorker("z");
  x.submit([t("r-2", [], { w: ["z"], lo: true })]);
  assert.equal(x.on("r-2"), "z", "but prefers it when it is there");
});

Deno.test("restrictions: a dependency held elsewhere is fetched by the allowed worker", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1", [], { w: ["a"] })]);
  x.finish("a-1", "a", 1e9);
  x.submit([t("b-1", ["a-1"], { w: ["b"] })]);
  assert.equal(x.on("b-1"), "b", "the restriction beats data locality");
  assert.deepEqual(x.computes("b")[0].d, { "a-1": ["a"] });
});

Deno.test("restrictions: restricted root tasks do not queue", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("r-1", [], { w: ["a"] }), t("r-2", [], { w: ["a"] }), t("r-3", [], { w: ["a"] })]);
  assert.equal(x.processingCount("a"), 3);
});

// ------------------------------------------------------------------ adaptive pipelining

Deno.test("pipelining: tiny tasks with small results get more root slots", () => {
  const x = sim([2], { workerSaturation: 1 });
  x.submit([t("tiny-0"), t("big-0")]);
  x.s.taskFinished("a", { op: "task-finished", k: "tiny-0", nbytes: 8, start: 0, stop: 1 });
  x.s.taskFinished("a", { op: "task-finished", k: "big-0", nbytes: 1e6, start: 0, stop: 1 });
  validateState(x.s);
  x.submit(Array.from({ length: 150 }, (_, i) => t(`tiny-${i + 1}`)));
  // 0.05 s of 1 ms tasks per thread: 50 per thread, 2 threads
  assert.equal(x.processingCount("a"), 100);
  assert.equal(x.s.counts.queued, 50);
  const y = sim([2], { workerSaturation: 1 });
  y.submit([t("big-0")]);
  y.s.taskFinished("a", { op: "task-finished", k: "big-0", nbytes: 1e6, start: 0, stop: 1 });
  y.submit(Array.from({ length: 10 }, (_, i) => t(`big-${i + 1}`)));
  assert.equal(y.processingCount("a"), 2, "large results: the plain saturation rule");
  const z = sim([2], { workerSaturation: 1 });
  z.submit(Array.from({ length: 10 }, (_, i) => t(`new-${i}`)));
  assert.equal(z.processingCount("a"), 2, "unmeasured prefix: the plain saturation rule");
});

// ------------------------------------------------------------------ placement functions

function ws(address: string, nthreads: number, status: WorkerState["status"] = "running") {
  const w = new WorkerState({ address, name: address, nthreads, memoryLimit: 0, pid: 1 });
  w.status = status;
  return w;
}

Deno.test("taskSlots: max(ceil(saturation × threads), 1); Infinity is unbounded", () => {
  assert.equal(taskSlots(ws("a", 2), 1.1), 3);
  assert.equal(taskSlots(ws("a", 4), 0.1), 1);
  assert.equal(taskSlots(ws("a", 1), 2.5), 3);
  assert.equal(taskSlots(ws("a", 1), Infinity), Infinity);
});

Deno.test("pickRootWorker: least busy per thread with a free slot; never a paused worker", () => {
  const a = ws("a", 2), b = ws("b", 1), p = ws("p", 8, "paused");
  const busy = new TaskState("x-1", "x", "f", null);
  a.processing.add(busy);
  assert.equal(pickRootWorker([p, a, b], 1), b);
  b.processing.add(new TaskState("x-2", "x", "f", null));
  assert.equal(pickRootWorker([p, a, b], 1), a);
  a.processing.add(new TaskState("x-3", "x", "f", null));
  assert.equal(pickRootWorker([p, a, b], 1), null, "all full");
  assert.equal(pickRootWorker([p], Infinity), null);
  a.occupancy = 10;
  b.occupancy = 1;
  assert.equal(pickRootWorker([a, b], Infinity), b, "without queuing: by occupancy per thread");
});

Deno.test("pickWorker: holders first, skipping paused ones; then any running worker", () => {
  const a = ws("a", 1), b = ws("b", 1, "paused"), c = ws("c", 1);
  const dep = new TaskState("d-1", "d", "f", null);
  dep.state = "memory";
  dep.nbytes = 1000;
  dep.whoHas = new SmallSet([b]);
  const ts = new TaskState("t-1", "t", "f", null);
  ts.deps = [dep];
  c.occupancy = 5;
  assert.equal(pickWorker(ts, [a, b, c]), a, "the holder is paused: the least busy other");
  dep.whoHas.add(c);
  assert.equal(pickWorker(ts, [a, b, c]), c, "a running holder wins, busy or not");
  dep.whoHas.delete(c);
  assert.equal(pickWorker(ts, [b]), null, "nobody running");
});

// ------------------------------------------------------------------ workers coming and going

Deno.test("a worker registering again at the same address replaces the old one", () => {
  const x = sim([1]);
  x.submit([t("r-1"), t("r-2")]);
  x.finish("r-1");
  x.addWorker("a", 2);
  assert.equal(x.s.workers.size, 1);
  assert.equal(x.task("r-2").suspicious, 1);
  assert.equal(x.on("r-1"), "a", "lost with the old one: computed again");
  assert.equal(x.on("r-2"), "a");
});

// ------------------------------------------------------------------ lost workers

Deno.test("removeWorker: processing tasks are rescheduled and counted suspicious", () => {
  const x = sim([2, 1], { workerSaturation: Infinity });
  x.submit([t("r-0"), t("r-1"), t("r-2")]);
  const onA = [...x.s.workers.get("a")!.processing].map((ts) => ts.key);
  x.removeWorker("a");
  for (const k of onA) {
    assert.equal(x.on(k), "b");
    assert.equal(x.task(k).suspicious, 1);
    assert.equal(x.task(k).lastDeadWorker, "a");
  }
  assert.equal(x.processingCount("b"), 3);
});

Deno.test("removeWorker expected (retire): rescheduled, not suspicious", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("r-0"), t("r-1")]);
  x.removeWorker("a", true);
  assert.equal(x.task("r-0").suspicious + x.task("r-1").suspicious, 0);
  assert.equal(x.processingCount("b"), 2);
});

Deno.test("removeWorker with no other worker: tasks wait for one", () => {
  const x = sim([1]);
  x.submit([t("r-0"), t("b-1", ["r-0"])], ["b-1"]);
  x.removeWorker("a");
  assert.deepEqual(x.states(["r-0", "b-1"]), ["no-worker", "waiting"]);
  x.addWorker("z");
  assert.equal(x.on("r-0"), "z");
});

Deno.test("KilledWorker after allowedFailures + 1 deaths", () => {
  for (const allowedFailures of [0, 1, 3]) {
    const x = sim([1], { allowedFailures });
    x.submit([t("r-0"), t("b-1", ["r-0"])], ["b-1"]);
    for (let i = 0; i <= allowedFailures; i++) {
      assert.equal(x.state("r-0"), "processing", `death ${i}`);
      x.removeWorker(x.on("r-0"));
      x.addWorker(`w${i}`);
    }
    assert.deepEqual(x.states(["r-0", "b-1"]), ["erred", "erred"]);
    const [e] = erred(x.takeClient());
    assert.equal(e.k, "b-1");
    assert.equal(e.blame, "r-0");
    assert.equal(e.e.name, "KilledWorker");
    assert.match(e.e.message, new RegExp(`${allowedFailures + 1} different workers`));
    const last = allowedFailures === 0 ? "a" : `w${allowedFailures - 1}`;
    assert.match(e.e.message, new RegExp(`last worker was ${last}\\b`));
  }
});

Deno.test("memory lost with its worker is recomputed from lineage when still wanted", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("b-1", ["a-1"])], ["a-1", "b-1"]);
  const w = x.on("a-1");
  x.finish("a-1", w);
  x.finish("b-1", x.on("b-1"));
  const other = w === "a" ? "b" : "a";
  const bOn = x.holders("b-1")[0];
  x.removeWorker(w);
  assert.equal(x.state("a-1"), "processing");
  assert.equal(x.on("a-1"), other);
  assert.equal(x.state("b-1"), bOn === w ? "waiting" : "memory");
  assert.match(x.out.events.join("\n"), /lost \d computed and 0 scattered keys/);
});

Deno.test("memory lost with its worker: a dependent on another worker runs again after", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("a-2"), t("b-1", ["a-1", "a-2"])], ["b-1"]);
  const w1 = x.on("a-1");
  x.finish("a-1", w1, 10);
  x.finish("a-2", x.on("a-2"), 1e9);
  const wb = x.on("b-1");
  assert.notEqual(wb, w1, "b-1 goes where most bytes are");
  x.removeWorker(w1);
  assert.equal(x.state("a-1"), "processing", "recomputed");
  // b-1's worker cannot fetch a-1 from the dead worker
  x.missing("b-1", "a-1", w1, wb);
  assert.equal(x.state("b-1"), "waiting");
  x.finish("a-1", x.on("a-1"));
  assert.equal(x.state("b-1"), "processing");
  x.finish("b-1");
  assert.deepEqual(inMemory(x.takeClient()), ["b-1"]);
});

Deno.test("a replica survives the loss of one holder: nothing recomputed", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1")]);
  x.finish("a-1", "a", 8);
  x.finish("a-1", "b", 8);
  x.flush();
  x.removeWorker("a");
  assert.equal(x.state("a-1"), "memory");
  assert.deepEqual(x.holders("a-1"), ["b"]);
  assert.deepEqual(x.computed("b"), []);
});

Deno.test("scattered data lost with its worker: keys-cancelled, dependents cancelled too", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.addClient("d");
  x.submit([t("s-1")]);
  const w = x.on("s-1");
  x.finish("s-1", w, 100);
  x.scattered("s-1");
  x.submit([t("b-1", ["s-1"])], ["b-1"], "d");
  x.takeClient("c");
  x.removeWorker(w);
  assert.equal(x.state("s-1"), "forgotten");
  assert.equal(x.state("b-1"), "forgotten");
  const mc = x.takeClient("c") as KeysCancelled[];
  assert.deepEqual(cancelled(mc), ["s-1"]);
  assert.match(mc[0].reason, new RegExp(`scattered.*${w}|${w}.*scattered`));
  assert.deepEqual(cancelled(x.takeClient("d")), ["b-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.equal(x.s.clients.has("c"), true);
  assert.deepEqual(x.wantedBy("c"), []);
  assert.match(x.out.events.join("\n"), /0 computed and 1 scattered keys/);
});

Deno.test("scattered data lost: a processing dependent on another worker is stopped", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("s-1"), t("big-1")]);
  const w = x.on("s-1"), wb = x.on("big-1");
  assert.notEqual(w, wb);
  x.finish("s-1", w, 1);
  x.finish("big-1", wb, 1e9);
  x.scattered("s-1");
  x.submit([t("b-1", ["s-1", "big-1"])], ["b-1"]);
  assert.equal(x.on("b-1"), wb, "where most input bytes are");
  x.flush();
  x.removeWorker(w);
  assert.equal(x.state("b-1"), "forgotten");
  assert.deepEqual(x.freed(wb), ["b-1"]);
  assert.deepEqual(cancelled(x.takeClient()).sort(), ["b-1", "s-1"]);
  assert.equal(x.state("big-1"), "memory", "still wanted");
});

Deno.test("scattered data with a dependent in memory: that result stays", () => {
  const x = sim([1, 1]);
  x.submit([t("s-1")], ["s-1"]);
  x.finish("s-1", "a", 1);
  x.scattered("s-1");
  x.submit([t("b-1", ["s-1"])], ["b-1"]);
  x.finish("b-1", "a");
  x.finish("b-1", "b"); // a replica elsewhere
  x.takeClient();
  x.removeWorker("a");
  assert.deepEqual(cancelled(x.takeClient()), ["s-1"]);
  assert.equal(x.state("b-1"), "memory");
  x.release(["b-1"]);
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("scattered data released, then a dependent is lost: it cannot be recomputed", () => {
  const x = sim([1, 1]);
  x.submit([t("s-1")], ["s-1"]);
  x.finish("s-1", "a", 1);
  x.scattered("s-1");
  x.submit([t("b-1", ["s-1"])], ["b-1"]);
  x.finish("b-1", "a");
  x.release(["s-1"]);
  assert.equal(x.state("s-1"), "released");
  x.takeClient();
  x.removeWorker("a");
  assert.deepEqual(cancelled(x.takeClient()), ["b-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.deepEqual(x.computed("b"), [], "nothing runs without its scattered input");
});

Deno.test("missing-data: the holder is dropped; the only copy gone means recompute", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("a-2"), t("b-1", ["a-1", "a-2"])], ["b-1"]);
  const w1 = x.on("a-1");
  x.finish("a-1", w1, 10);
  x.finish("a-2", x.on("a-2"), 1e9);
  const wb = x.on("b-1");
  x.flush();
  x.missing("b-1", "a-1", w1, wb);
  assert.equal(x.state("a-1"), "processing", "recomputed");
  assert.equal(x.state("b-1"), "waiting");
  assert.equal(x.s.workers.get(w1)!.nbytes, 0);
  x.finish("a-1");
  x.finish("b-1");
  assert.equal(x.state("b-1"), "memory");
});

Deno.test("missing-data: another holder remains; the task runs again with it", () => {
  const x = sim([1, 1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1")]);
  x.finish("a-1", "a", 10);
  x.finish("a-1", "b", 10);
  x.submit([t("r-1"), t("r-2")]); // keep a and b busy
  x.submit([t("b-1", ["a-1"])]);
  const wb = x.on("b-1");
  x.missing("b-1", "a-1", "a", wb);
  assert.deepEqual(x.holders("a-1"), ["b"]);
  assert.equal(x.state("b-1"), "processing");
  const m = x.computes(x.on("b-1")).findLast((c) => c.k === "b-1")!;
  assert.ok(m.d["a-1"].length === 0 || m.d["a-1"][0] === "b");
});

Deno.test("missing-data about a task not processing there: only the holder is dropped", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1")]);
  x.finish("a-1", "a", 10);
  x.finish("a-1", "b", 10);
  x.s.missingData("b", "zz-1", "a-1", "a");
  validateState(x.s);
  assert.deepEqual(x.holders("a-1"), ["b"]);
  x.s.missingData("b", "zz-1", "a-1", "b");
  validateState(x.s);
  assert.equal(x.state("a-1"), "processing", "still wanted: recomputed");
});

// ------------------------------------------------------------------ work stealing

/**
 * x-0 in memory on "a" (`nbytes`), then `n` tasks y-i that need it: all go to "a" (their input
 * is there), while the other workers stay idle.
 */
function loaded(threads = [1, 1], n = 10, config: Partial<SchedulerConfig> = {}, nbytes = 8) {
  const x = sim(threads, config);
  x.submit([t("x-0")]);
  x.finish("x-0", "a", nbytes);
  x.submit(Array.from({ length: n }, (_, i) => t(`y-${i}`, ["x-0"])));
  assert.equal(x.processingCount("a"), n);
  x.flush();
  return x;
}

// Dask: test_steal.py::test_work_stealing / test_steal_cheap_data_slow_computation
Deno.test("stealing: an idle worker takes tasks not started from a loaded one, until balanced", () => {
  const x = loaded();
  x.balance();
  // the most recently assigned first; 10 × 0.5 s on a: four move (a fifth would overshoot,
  // counting the round trip: b would then expect more work than a)
  assert.deepEqual(x.stealsAsked("a"), ["y-9", "y-8", "y-7", "y-6"]);
  assert.deepEqual(x.computed("b"), [], "nothing moves before the victim answers");
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), [], "steals in flight count: no second request");
  x.stealAnswer("y-9", "a", "ready");
  x.stealAnswer("y-8", "a", "waiting");
  x.stealAnswer("y-7", "a", "ready");
  x.stealAnswer("y-6", "a", "ready");
  assert.deepEqual(x.computed("b"), ["y-9", "y-8", "y-7", "y-6"]);
  assert.equal(x.on("y-9"), "b");
  assert.equal(x.processingCount("a"), 6);
  assert.equal(x.processingCount("b"), 4);
  assert.equal(x.s.tasksStolen, 4);
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), [], "balanced: nothing more moves");
  for (let i = 0; i < 10; i++) x.finish(`y-${i}`);
  assert.deepEqual(x.states(["y-0", "y-9"]), ["memory", "memory"]);
});

Deno.test("stealing: the thief is told where the inputs are", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const [k] = x.stealsAsked("a");
  x.stealAnswer(k, "a", "ready");
  const [m] = x.computes("b");
  assert.equal(m.k, k);
  assert.deepEqual(m.d, { "x-0": ["a"] });
  assert.deepEqual(m.fn, FN, "the thief gets the function's source the first time");
});

// Dask: test_steal.py::test_dont_steal_executing_tasks
Deno.test("stealing: a started task stays where it runs; it finishes there once", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const asked = x.stealsAsked("a");
  assert.ok(asked.length > 0);
  for (const k of asked) x.stealAnswer(k, "a", "executing");
  assert.deepEqual(x.computed("b"), []);
  for (const k of asked) assert.equal(x.on(k), "a");
  for (const k of asked) x.finish(k, "a");
  assert.deepEqual(x.freed("a"), [], "nothing to undo");
  assert.equal(x.s.tasksStolen, 0);
});

Deno.test("stealing: a steal racing with completion: the victim's result is kept, no rerun", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const asked = x.stealsAsked("a");
  const k = asked[0];
  x.finish(k, "a"); // the worker finished it before the request reached it
  x.stealAnswer(k, "a", "memory");
  assert.equal(x.state(k), "memory");
  assert.deepEqual(x.holders(k), ["a"]);
  assert.deepEqual(x.computed("b"), [], "nothing duplicated");
  assert.equal(x.s.stealsInFlight.size, asked.length - 1);
});

Deno.test("stealing: a steal racing with a release: the late answer moves nothing", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const [k] = x.stealsAsked("a");
  x.release([k]);
  x.stealAnswer(k, "a", "ready"); // it dropped the task on the request, before the free-keys
  assert.equal(x.state(k), "forgotten");
  assert.deepEqual(x.computed("b"), []);
});

Deno.test("stealing: the thief left before the answer: the task is placed again", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const [k] = x.stealsAsked("a");
  x.removeWorker("b");
  x.stealAnswer(k, "a", "ready");
  assert.equal(x.on(k), "a");
  assert.deepEqual(x.computed("a"), [k], "sent to a again");
});

Deno.test("stealing: an answer from a worker that was not asked is ignored", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const asked = x.stealsAsked("a");
  const k = asked[0];
  x.s.stealResponse("b", k, "ready");
  x.s.stealResponse("a", "nope-1", "ready");
  assert.equal(x.on(k), "a");
  assert.equal(x.s.stealsInFlight.size, asked.length);
});

// Dask: test_steal.py::test_dont_steal_worker_restrictions / test_steal_worker_restrictions
Deno.test("stealing: a strict restriction is never broken; stealing stays within it", () => {
  const x = sim([1, 1, 1]);
  x.submit([t("x-0", [], { w: ["a"] })]);
  x.finish("x-0", "a");
  x.submit(Array.from({ length: 10 }, (_, i) => t(`y-${i}`, ["x-0"], { w: ["a"] })));
  x.submit(Array.from({ length: 10 }, (_, i) => t(`z-${i}`, ["x-0"], { w: ["a", "c"] })));
  assert.equal(x.processingCount("a"), 20);
  x.flush();
  x.balance();
  const asked = x.stealsAsked("a");
  assert.ok(asked.length > 0);
  assert.ok(asked.every((k) => k.startsWith("z-")), `only z may move: ${asked}`);
  for (const k of asked) x.stealAnswer(k, "a", "ready");
  assert.deepEqual(x.computed("b"), [], "b is not allowed");
  assert.deepEqual(x.computed("c").sort(), asked.sort());
});

// Dask: test_steal.py::test_steal_cheap_data_slow_computation (pinned loosely to a)
Deno.test("stealing: a loose restriction may be stolen by any worker", () => {
  const x = sim([1, 1]);
  x.submit([t("x-0")]);
  x.finish("x-0", "a");
  x.submit(Array.from({ length: 10 }, (_, i) => t(`y-${i}`, ["x-0"], { w: ["a"], lo: true })));
  x.flush();
  x.balance();
  const asked = x.stealsAsked("a");
  assert.equal(asked.length, 4);
  for (const k of asked) x.stealAnswer(k, "a", "ready");
  assert.equal(x.processingCount("b"), 4, "balanced within 5 of each other");
});

// Dask: test_steal.py::test_dont_steal_expensive_data_fast_computation
Deno.test("stealing: moving a large input costs more than it saves: nothing moves", () => {
  const x = loaded([1, 1], 10, {}, 1e9); // 10 s of transfer for 0.5 s tasks
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), []);
});

Deno.test("stealing: tasks measured under 5 ms are not worth a move", () => {
  const x = loaded([1, 1], 10);
  x.finish("y-0", "a", 8, undefined, 1); // y takes 1 ms
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), []);
  assert.equal(x.s.workers.get("a")!.stealable.length, 0, "dropped from the candidates");
});

// Dask: test_steal.py::test_paused_workers_must_not_steal
Deno.test("stealing: a paused worker does not steal", () => {
  const x = loaded([1, 1]);
  x.s.workers.get("b")!.status = "paused";
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), []);
});

Deno.test("stealing: off (workStealing false): nothing is tracked or asked", () => {
  const x = loaded([1, 1], 10, { workStealing: false });
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), []);
  assert.equal(x.s.workers.get("a")!.stealable.length, 0);
});

Deno.test("stealing: root tasks under queuing are not candidates (they queue instead)", () => {
  const x = sim([1, 1], { workerSaturation: 1.1 });
  x.submit(Array.from({ length: 10 }, (_, i) => t(`r-${i}`)));
  for (const ws of x.s.workers.values()) assert.equal(ws.stealable.length, 0);
});

// Dask: test_steal.py::test_new_worker_steals (with queuing off, everything is assigned up front)
Deno.test("stealing: a new worker takes part of the work; a pass sends a bounded number", () => {
  const x = sim([1], { workerSaturation: Infinity });
  x.submit(Array.from({ length: 300 }, (_, i) => t(`r-${i}`)));
  assert.equal(x.processingCount("a"), 300);
  x.addWorker("b", 1);
  x.flush();
  x.balance();
  const asked = x.stealsAsked("a");
  assert.equal(asked.length, 64, "at most MAX_STEALS_PER_PASS per pass");
  for (const k of asked) x.stealAnswer(k, "a", "ready");
  for (let pass = 0; pass < 5; pass++) {
    x.balance();
    for (const k of x.stealsAsked("a")) x.stealAnswer(k, "a", "ready");
  }
  const [a, b] = [x.processingCount("a"), x.processingCount("b")];
  assert.ok(Math.abs(a - b) <= 2, `balanced: ${a} and ${b}`);
});

// Dask: test_steal.py::test_balance_without_dependencies (here: expected work per worker)
Deno.test("stealing: many workers end up with about the same expected work", () => {
  const x = sim([1], { workerSaturation: Infinity });
  x.submit(Array.from({ length: 100 }, (_, i) => t(`r-${i}`)));
  for (const w of ["b", "c", "d", "e"]) x.addWorker(w, 1);
  for (let pass = 0; pass < 10; pass++) {
    x.balance();
    for (const k of x.stealsAsked("a")) x.stealAnswer(k, "a", "ready");
  }
  const counts = [..."abcde"].map((w) => x.processingCount(w));
  assert.ok(Math.max(...counts) / Math.min(...counts) < 3, `unbalanced: ${counts}`);
});

// ------------------------------------------------------------------ FIFO generations

Deno.test("fifoTimeout: a new generation starts when more than fifoTimeout passed", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submitAt(1000, [t("r-0"), t("r-1"), t("r-9")]); // 3 tasks of a prefix: root-ish
  x.submitAt(1050, [t("r-2")]); // within 100 ms of the generation's start
  x.submitAt(1150, [t("r-3")]); // a new generation
  x.submitAt(1200, [t("r-4")]); // within 100 ms of 1150
  x.submitAt(1215, [t("r-5")], 10); // fifoTimeout 10 ms: a new one
  x.submitAt(1215, [t("r-6", [], { p: 1 })], 10); // same instant: same generation
  const gens = ["r-0", "r-1", "r-9", "r-2", "r-3", "r-4", "r-5", "r-6"].map((k) =>
    x.task(k).generation
  );
  assert.deepEqual(gens, [1, 1, 1, 1, 2, 2, 3, 3]);
  // user priority first, then generation, then submission order
  const order = [x.computed("a")[0]];
  for (let i = 0; i < 7; i++) {
    x.finish(order.at(-1)!);
    order.push(...x.computes("a").map((m) => m.k));
  }
  assert.deepEqual(order, ["r-0", "r-6", "r-1", "r-9", "r-2", "r-3", "r-4", "r-5"]);
  assert.deepEqual(x.task("r-3").priority.slice(1), [2, x.task("r-3").order]);
});

Deno.test("runsBefore: generation between user priority and order", () => {
  const a = new TaskState("a-1", "a", "f", null), b = new TaskState("b-1", "b", "f", null);
  a.generation = 1;
  a.order = 1;
  b.generation = 2;
  b.order = 0; // an order alone would put b first
  assert.ok(runsBefore(a, b));
  b.rank = -1; // higher user priority wins over generation
  assert.ok(runsBefore(b, a));
});

// ------------------------------------------------------------------ randomized

function fuzz(seed: number, steps: number, config: Partial<SchedulerConfig>): void {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const x = new Sim(config);
  const clients = ["c1", "c2"];
  for (const c of clients) x.addClient(c);
  let nk = 0, nw = 0;
  const liveWorkers = () => [...x.s.workers.keys()];
  const processing = () => [...x.s.tasks.values()].filter((ts) => ts.state === "processing");
  for (let step = 0; step < steps; step++) {
    const op = r();
    if (op < 0.08 && x.s.workers.size < 4) {
      x.addWorker(`w${nw++}`, 1 + Math.floor(r() * 3));
    } else if (op < 0.12 && x.s.workers.size) {
      x.removeWorker(pick(liveWorkers()), r() < 0.3);
    } else if (op < 0.35) {
      const specs: TaskSpec[] = [];
      const known = [...x.s.tasks.keys()];
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) {
        if (known.length && r() < 0.15) {
          specs.push(t(pick(known))); // resubmission
          continue;
        }
        const deps = new Set<string>();
        const pool = [...known, ...specs.map((s) => s.k)];
        const nd = pool.length ? Math.floor(r() * 3) : 0;
        for (let j = 0; j < nd; j++) deps.add(pick(pool));
        if (r() < 0.02) deps.add(`unknown-${nk}`);
        const restricted = r() < 0.1;
        specs.push(t(`k${nk++}-x`, [...deps], {
          p: r() < 0.2 ? Math.floor(r() * 5) - 2 : undefined,
          r: r() < 0.1 ? 1 : undefined,
          w: restricted ? [`w${Math.floor(r() * (nw + 2))}`] : undefined,
          lo: restricted && r() < 0.5,
        }));
      }
      const wanted = specs.filter(() => r() < 0.7).map((s) => s.k);
      x.submit(specs, wanted, pick(clients));
    } else if (op < 0.45) {
      const c = pick(clients);
      const wants = x.wantedBy(c);
      if (wants.length) x.release([pick(wants)], c);
    } else if (op < 0.47) {
      const c = pick(clients);
      x.removeClient(c);
      x.addClient(c);
    } else if (op < 0.75) {
      const p = processing();
      if (p.length) {
        const ts = pick(p);
        const w = r() < 0.05 ? pick(liveWorkers()) : ts.processingOn!.address;
        x.finish(ts.key, w, Math.floor(r() * 1e6));
      }
    } else if (op < 0.82) {
      const p = processing();
      if (p.length) x.err(pick(p).key);
    } else if (op < 0.87) {
      const p = processing().filter((ts) => ts.deps.some((d) => d.whoHas?.size));
      if (p.length) {
        const ts = pick(p);
        const dep = pick(ts.deps.filter((d) => d.whoHas?.size));
        x.missing(ts.key, dep.key, pick([...dep.whoHas!]).address);
      }
    } else if (op < 0.89) {
      const mem = [...x.s.tasks.values()].filter((ts) => ts.state === "memory" && ts.hasArgs);
      if (mem.length) x.scattered(pick(mem).key);
    } else if (op < 0.92) {
      const keys = [...x.s.tasks.keys()];
      if (keys.length) x.requestValues([pick(keys), "nope-1"], pick(clients));
    } else if (op < 0.94) {
      x.balance();
    } else {
      // a victim answers a steal request: dropped it, runs it, or finished it first
      const inflight = [...x.s.stealsInFlight];
      if (inflight.length) {
        const [ts, st] = pick(inflight);
        const v = st.victim.address;
        const q = r();
        if (q < 0.5) x.stealAnswer(ts.key, v, pick(["ready", "waiting"]));
        else if (q < 0.75) x.stealAnswer(ts.key, v, "executing");
        else {
          x.finish(ts.key, v);
          x.stealAnswer(ts.key, v, "memory");
        }
      } else {
        const keys = [...x.s.tasks.keys()];
        const ws = liveWorkers();
        if (keys.length && ws.length) x.stealAnswer(pick(keys), pick(ws), "executing"); // stale
      }
    }
  }
  // liveness: with a worker and everything finishing, nothing stays pending
  x.addWorker("final", 4);
  for (let i = 0; i < 10_000; i++) {
    const p = processing();
    if (!p.length) break;
    for (const ts of p) if (ts.state === "processing") x.finish(ts.key, ts.processingOn!.address);
  }
  for (const ts of x.s.tasks.values()) {
    const cannotRun = (t: TaskState): boolean =>
      (t.restrictions !== null && !t.loose &&
        ![...t.restrictions].some((w) => x.s.workers.has(w))) ||
      t.deps.some((d) => d.state !== "memory" && cannotRun(d));
    assert.ok(
      ts.state === "memory" || ts.state === "erred" || ts.state === "released" ||
        ((ts.state === "no-worker" || ts.state === "waiting") && cannotRun(ts)),
      `seed ${seed}: ${ts.key} stuck in ${ts.state}`,
    );
  }
  // no leaks: once every client is gone, nothing is left anywhere
  for (const c of clients) x.removeClient(c);
  assert.equal(x.s.tasks.size, 0, `seed ${seed}: tasks left`);
  for (const s of TASK_STATES) assert.equal(x.s.counts[s], 0, `seed ${seed}: count of ${s}`);
  for (const [address, ws] of x.s.workers) {
    assert.equal(ws.processing.size + ws.hasWhat.size, 0, `seed ${seed}: ${address} not empty`);
    assert.equal(ws.nbytes, 0);
    assert.ok(ws.occupancy < 1e-9);
    assert.equal(x.model.get(address)!.size, 0, `seed ${seed}: ${address} still holds keys`);
  }
}

Deno.test("randomized stimuli keep every invariant, finish everything, leak nothing", () => {
  for (let seed = 1; seed <= 120; seed++) {
    fuzz(seed, 500, { workerSaturation: [1.1, 1, Infinity, 2][seed % 4], allowedFailures: 1 });
  }
});

// ------------------------------------------------------------------ replicas (i4-cluster)

/** Keys held per worker, by address. */
function held(x: Sim): Record<string, string[]> {
  return Object.fromEntries(
    [...x.s.workers].map(([a, ws]) => [a, [...ws.hasWhat].map((ts) => ts.key).sort()]),
  );
}

// Ports test_client.py::test_replicate (replicate(n) gives n holders per key).
Deno.test("replicate: missing copies go to the emptiest workers; n caps at the workers", () => {
  const x = sim([1, 1, 1, 1]);
  x.submit([t("x-1"), t("big-1")]);
  x.finish("x-1", x.on("x-1"), 10);
  x.finish("big-1", x.on("big-1"), 1000);
  const holderX = x.holders("x-1")[0], holderBig = x.holders("big-1")[0];
  const plan = x.replicate(["x-1"], 3);
  assert.equal([...plan.values()].length, 2);
  for (const who of plan.values()) assert.deepEqual(who, { "x-1": [holderX] });
  assert.ok(!plan.has(holderBig), "the worker holding the most bytes gets no copy");
  assert.equal(x.holders("x-1").length, 3);
  x.replicate(["x-1", "big-1"]);
  assert.equal(x.holders("x-1").length, 4);
  assert.equal(x.holders("big-1").length, 4);
  x.replicate(["x-1"], 10);
  assert.equal(x.holders("x-1").length, 4, "no more copies than workers");
  assert.equal(x.s.workers.get("a")!.nbytes, 1010);
});

// Ports test_client.py::test_replicate (lowering n drops surplus copies).
Deno.test("replicate with a lower n frees the surplus copies, never the last", () => {
  const x = sim([1, 1, 1]);
  x.submit([t("x-1")]);
  x.finish("x-1");
  x.replicate(["x-1"]);
  assert.deepEqual(x.holders("x-1"), ["a", "b", "c"]);
  x.flush();
  const plan = x.replicate(["x-1"], 1);
  assert.equal(plan.size, 0, "nothing to copy");
  assert.equal(x.holders("x-1").length, 1);
  const freed = ["a", "b", "c"].flatMap((a) => x.freed(a));
  assert.deepEqual(freed, ["x-1", "x-1"]);
  assert.equal(x.state("x-1"), "memory");
  // keys not in memory are left alone
  x.submit([t("y-1")]);
  assert.equal(x.replicate(["y-1", "unknown"], 2).size, 0);
});

Deno.test("a replica arriving for a key released meanwhile is freed on that worker", () => {
  const x = sim([1, 1]);
  x.submit([t("x-1")]);
  const a = x.on("x-1");
  x.finish("x-1", a);
  const b = a === "a" ? "b" : "a";
  const plan = planReplicate(x.s, ["x-1"]);
  assert.deepEqual(plan.get(b), { "x-1": [a] });
  x.release(["x-1"]);
  x.flush();
  x.replicasArrived(b, ["x-1"]);
  assert.deepEqual(x.freed(b), ["x-1"]);
  assert.equal(x.s.tasks.has("x-1"), false);
});

Deno.test("a replicated key survives its first holder's death and is freed everywhere", () => {
  const x = sim([1, 1]);
  x.submit([t("x-1")]);
  const a = x.on("x-1");
  x.finish("x-1", a);
  x.replicate(["x-1"]);
  assert.deepEqual(x.holders("x-1"), ["a", "b"]);
  x.removeWorker(a);
  assert.equal(x.state("x-1"), "memory", "still held elsewhere: not recomputed");
  assert.deepEqual(x.holders("x-1"), [a === "a" ? "b" : "a"]);
  x.flush();
  x.release(["x-1"]);
  assert.deepEqual(x.freed(a === "a" ? "b" : "a"), ["x-1"]);
});

Deno.test("removeReplicas never drops the last copy", () => {
  const x = sim([1, 1]);
  x.submit([t("x-1")]);
  const a = x.on("x-1");
  x.finish("x-1", a);
  x.flush();
  x.removeReplicas(a, ["x-1", "unknown"]);
  assert.deepEqual(x.freed(a), []);
  assert.deepEqual(x.holders("x-1"), [a]);
});

// Ports test_client.py::test_rebalance (100 keys on a: 50 and 50 after rebalance()).
Deno.test("rebalance: keys move from the fullest worker until both hold the mean", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  const keys = Array.from({ length: 100 }, (_, i) => `x-${i}`);
  x.submit(keys.map((k) => t(k, [], { w: ["a"] })));
  for (const k of keys) x.finish(k, "a", 100);
  const moves = x.rebalance();
  assert.equal(moves.length, 50);
  for (const mv of moves) assert.deepEqual([mv.from, mv.to], ["a", "b"]);
  const h = held(x);
  assert.equal(h.a.length, 50);
  assert.equal(h.b.length, 50);
  for (const k of keys) assert.equal(x.holders(k).length, 1, `${k}: exactly one copy`);
  assert.deepEqual(x.rebalance(), [], "balanced: nothing moves again");
});

// Ports test_client.py::test_rebalance_unprepared / test_rebalance_workers_and_keys.
Deno.test("rebalance: only the given keys move; uneven sizes; one worker moves nothing", () => {
  const x = sim([1, 1, 1], { workerSaturation: Infinity });
  x.submit([t("big-1", [], { w: ["a"] }), t("s-1", [], { w: ["a"] }), t("s-2", [], { w: ["a"] })]);
  x.finish("big-1", "a", 900);
  x.finish("s-1", "a", 100);
  x.finish("s-2", "a", 100);
  // mean 366: big-1 (900) would put its recipient far above it, so only the small ones move
  const moves = x.rebalance();
  assert.deepEqual(moves.map((m) => m.key).sort(), ["s-1", "s-2"]);
  assert.deepEqual(new Set(moves.map((m) => m.to)), new Set(["b", "c"]), "spread over both");
  const y = sim([1, 1], { workerSaturation: Infinity });
  y.submit([t("p-1", [], { w: ["a"] }), t("q-1", [], { w: ["a"] })]);
  y.finish("p-1", "a", 100);
  y.finish("q-1", "a", 100);
  assert.deepEqual(y.rebalance(["q-1"]).map((m) => m.key), ["q-1"]);
  assert.deepEqual(y.rebalance(["p-1"]), [], "balanced now");
  const z = sim([1]);
  z.submit([t("r-1")]);
  z.finish("r-1");
  assert.deepEqual(z.rebalance(), []);
});

Deno.test("rebalance never moves a key to a worker that holds it", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("x-1", [], { w: ["a"] }), t("x-2", [], { w: ["a"] }), t("x-3", [], { w: ["a"] })]);
  for (const k of ["x-1", "x-2", "x-3"]) x.finish(k, "a", 100);
  x.replicate(["x-1", "x-2", "x-3"]); // both hold everything: balanced
  assert.deepEqual(x.rebalance(), []);
});

/**
 * Replicate and rebalance interleaved with submissions, results, releases, missing data and
 * worker deaths; planned copies arrive late (after other stimuli), some never.
 */
function fuzzReplicas(seed: number, steps: number): void {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const x = new Sim({ workerSaturation: [1.1, Infinity][seed % 2] });
  x.addClient("c");
  let nk = 0, nw = 0;
  for (; nw < 3; nw++) x.addWorker(`w${nw}`, 1 + (nw % 2));
  const inFlight: [string, string[]][] = []; // copies planned, not yet arrived
  const moves: Move[] = []; // rebalance moves whose copy has not arrived
  const memory = () => [...x.s.tasks.values()].filter((ts) => ts.state === "memory");
  const processing = () => [...x.s.tasks.values()].filter((ts) => ts.state === "processing");
  for (let step = 0; step < steps; step++) {
    const op = r();
    if (op < 0.25) {
      const known = [...x.s.tasks.keys()];
      const deps = known.length && r() < 0.5 ? [pick(known)] : [];
      x.submit([t(`k${nk++}-x`, deps)], r() < 0.8 ? [`k${nk - 1}-x`] : []);
    } else if (op < 0.5) {
      const p = processing();
      if (p.length) {
        const ts = pick(p);
        x.finish(ts.key, ts.processingOn!.address, 1 + Math.floor(r() * 1000));
      }
    } else if (op < 0.58) {
      const wants = x.wantedBy("c");
      if (wants.length) x.release([pick(wants)]);
    } else if (op < 0.68) {
      const keys = memory().filter(() => r() < 0.5).map((ts) => ts.key);
      const n = r() < 0.3 ? undefined : 1 + Math.floor(r() * 3);
      const plan = x.planReplicate(keys, n);
      for (const [address, who] of plan) inFlight.push([address, Object.keys(who)]);
    } else if (op < 0.74) {
      moves.push(...planRebalance(x.s, r() < 0.5 ? undefined : memory().map((ts) => ts.key)));
    } else if (op < 0.86 && inFlight.length) {
      const [address, keys] = inFlight.splice(Math.floor(r() * inFlight.length), 1)[0];
      const live = x.s.workers.has(address);
      if (live && r() < 0.9) x.replicasArrived(address, keys.filter(() => r() < 0.9));
    } else if (op < 0.92 && moves.length) {
      const mv = moves.splice(Math.floor(r() * moves.length), 1)[0];
      if (x.s.workers.has(mv.to)) {
        x.replicasArrived(mv.to, [mv.key]);
        if (x.s.workers.has(mv.from)) x.removeReplicas(mv.from, [mv.key]);
      }
    } else if (op < 0.95) {
      const p = processing().filter((ts) => ts.deps.some((d) => d.whoHas?.size));
      if (p.length) {
        const ts = pick(p);
        const dep = pick(ts.deps.filter((d) => d.whoHas?.size));
        x.missing(ts.key, dep.key, pick([...dep.whoHas!]).address);
      }
    } else if (op < 0.98 && x.s.workers.size > 1) {
      x.removeWorker(pick([...x.s.workers.keys()]));
    } else if (x.s.workers.size < 4) {
      x.addWorker(`w${nw++}`, 2);
    }
  }
  // no leaks: once the client is gone, nothing is left anywhere
  x.removeClient("c");
  assert.equal(x.s.tasks.size, 0, `seed ${seed}: tasks left`);
  for (const [address, ws] of x.s.workers) {
    assert.equal(ws.nbytes, 0, `seed ${seed}: ${address} nbytes`);
    assert.equal(x.model.get(address)!.size, 0, `seed ${seed}: ${address} still holds keys`);
  }
}

Deno.test("randomized replicate / rebalance keep every invariant and leak nothing", () => {
  for (let seed = 1; seed <= 60; seed++) fuzzReplicas(seed, 400);
});

Deno.test("randomized stealing: invariants hold, no task is on two workers, all finish", () => {
  let stolen = 0;
  for (let seed = 1; seed <= 25; seed++) {
    const r = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
    const x = sim([1, 2, 1], { workerSaturation: seed % 2 ? Infinity : 1.1 });
    let nw = 0, nk = 0;
    x.submit([t("x-0")]);
    x.finish("x-0", "a");
    const processing = () => [...x.s.tasks.values()].filter((ts) => ts.state === "processing");
    for (let step = 0; step < 200; step++) {
      const op = r();
      if (op < 0.2) {
        const n = 1 + Math.floor(r() * 8);
        x.submit(Array.from({ length: n }, () =>
          t(`y${nk++}-x`, r() < 0.7 ? ["x-0"] : [], {
            w: r() < 0.2 ? [pick([...x.s.workers.keys()])] : undefined,
            lo: r() < 0.5,
          })));
      } else if (op < 0.4) {
        x.balance();
      } else if (op < 0.65) {
        const inflight = [...x.s.stealsInFlight];
        if (inflight.length) {
          const [ts, st] = pick(inflight);
          const v = st.victim.address;
          const q = r();
          if (q < 0.6) x.stealAnswer(ts.key, v, pick(["ready", "waiting"]));
          else if (q < 0.8) x.stealAnswer(ts.key, v, "executing");
          else {
            x.finish(ts.key, v);
            x.stealAnswer(ts.key, v, "memory");
          }
        }
      } else if (op < 0.85) {
        const p = processing();
        if (p.length) x.finish(pick(p).key);
      } else if (op < 0.92) {
        const wants = x.wantedBy("c").filter((k) => k !== "x-0");
        if (wants.length) x.release([pick(wants)]);
      } else if (op < 0.95 && x.s.workers.size > 1) {
        const w = pick([...x.s.workers.keys()].filter((a) => a !== "a"));
        if (w) x.removeWorker(w, true);
      } else if (op < 0.98 && x.s.workers.size < 5) {
        x.addWorker(`n${nw++}`, 1 + Math.floor(r() * 2));
      }
      // no task is assigned to two workers at once
      for (const ts of processing()) {
        const on = [...x.model].filter(([, m]) => m.has(ts.key)).map(([a]) => a);
        assert.deepEqual(on, [ts.processingOn!.address], `seed ${seed}: ${ts.key} on ${on}`);
      }
    }
    stolen += x.s.tasksStolen;
    for (let i = 0; i < 10_000; i++) {
      const p = processing();
      if (!p.length) break;
      for (const ts of p) if (ts.state === "processing") x.finish(ts.key);
    }
    for (const ts of x.s.tasks.values()) {
      assert.ok(
        ts.state === "memory" || ts.state === "no-worker",
        `seed ${seed}: ${ts.key} stuck in ${ts.state}`,
      );
    }
    assert.equal(x.s.stealsInFlight.size, 0, `seed ${seed}: steals left in flight`);
  }
  assert.ok(stolen > 100, `the scenario should exercise stealing (${stolen} moved)`);
});

// ------------------------------------------------------------------ resources (issue 4)

const GPU1 = { rs: { GPU: 1 } };

// Dask: test_resources.py::test_resource_submit
Deno.test("test_resource_submit: tasks go where their resources are; unknown ones wait for a worker", () => {
  const x = sim([]);
  x.addWorker("a", 1, "a", { A: 5 });
  x.addWorker("b", 1, "b", { A: 1, B: 1 });
  x.submit([t("x-1", [], { rs: { A: 3 } }), t("y-1", [], { rs: { B: 1 } })]);
  assert.equal(x.on("x-1"), "a");
  assert.equal(x.on("y-1"), "b");
  x.submit([t("z-1", [], { rs: { C: 2 } })]);
  assert.equal(x.state("z-1"), "no-worker");
  x.addWorker("c", 1, "c", { C: 10 });
  assert.equal(x.on("z-1"), "c");
});

// Dask: test_resources.py::test_submit_many_non_overlapping / test_map
Deno.test("test_submit_many_non_overlapping: tasks needing A all run on A's worker, one at a time", () => {
  const x = sim([]);
  x.addWorker("a", 4, "a", { A: 1 });
  x.addWorker("b", 4, "b", { B: 1 });
  const keys = Array.from({ length: 6 }, (_, i) => `inc-${i}`);
  x.submit(keys.map((k) => t(k, [], { rs: { A: 1 } })));
  assert.deepEqual(x.computed("a"), ["inc-0"], "one A: one task at a time");
  assert.deepEqual(x.states(keys.slice(1)), Array(5).fill("queued"));
  for (let i = 0; i < 6; i++) {
    assert.equal(x.task(`inc-${i}`).processingOn?.address, "a");
    x.finish(`inc-${i}`);
  }
  assert.equal(x.computed("b").length, 0, "the other worker stays empty");
  assert.deepEqual(x.s.workers.get("a")!.usedResources, { A: 0 }, "all freed");
});

// Dask: test_resources.py::test_minimum_resource
Deno.test("test_minimum_resource: {A:2,B:1} and tasks needing {A:1,B:1}: one at a time", () => {
  const x = sim([]);
  x.addWorker("a", 4, "a", { A: 2, B: 1 });
  const keys = Array.from({ length: 4 }, (_, i) => `ab-${i}`);
  x.submit(keys.map((k) => t(k, [], { rs: { A: 1, B: 1 } })));
  for (const k of keys) {
    assert.equal(x.processingCount("a"), 1);
    x.finish(k);
  }
  assert.deepEqual(x.s.workers.get("a")!.usedResources, { A: 0, B: 0 });
});

// Dask: test_resources.py::test_move — the task goes to the worker with the resource, and the
// dependency moves there.
Deno.test("test_move: a resource-bound task runs where the resource is, not where its input is", () => {
  const x = sim([1]);
  x.addWorker("b", 1, "b", { A: 1 });
  x.submit([t("x-1", [], { w: ["a"] })]);
  x.finish("x-1", "a", 1e9);
  x.submit([t("y-1", ["x-1"], { rs: { A: 1 } })]);
  assert.equal(x.on("y-1"), "b");
  assert.deepEqual(x.computes("b")[0].d, { "x-1": ["a"] });
});

Deno.test("resources: errors, releases and retries free them; the next task takes them", () => {
  const x = sim([]);
  x.addWorker("a", 2, "a", { GPU: 1 });
  x.submit([t("g-1", [], { ...GPU1, r: 1 }), t("g-2", [], GPU1), t("g-3", [], GPU1)]);
  assert.deepEqual(x.states(["g-1", "g-2", "g-3"]), ["processing", "queued", "queued"]);
  x.err("g-1"); // retried: back in line, in priority order (first)
  assert.deepEqual(x.states(["g-1", "g-2", "g-3"]), ["processing", "queued", "queued"]);
  x.release(["g-1"]);
  assert.deepEqual(x.states(["g-1", "g-2", "g-3"]), ["forgotten", "processing", "queued"]);
  x.release(["g-3"]);
  x.err("g-2");
  assert.equal(x.s.workers.get("a")!.usedResources!.GPU, 0);
  assert.equal(x.s.resourceNeeds.size, 1, "only g-2 (erred, wanted) keeps its needs");
});

Deno.test("resources: a task needing more than a worker has in total is no-worker there", () => {
  const x = sim([1]);
  x.addWorker("b", 1, "b", { GPU: 1 });
  x.submit([t("big-1", [], { rs: { GPU: 2 } }), t("any-1")]);
  assert.equal(x.state("big-1"), "no-worker");
  assert.equal(x.state("any-1"), "processing", "tasks without needs are not held up");
  x.addWorker("c", 1, "c", { GPU: 4 });
  assert.equal(x.on("big-1"), "c");
});

Deno.test("resources: the worker holding them leaves: its tasks and the queued ones wait for another", () => {
  const x = sim([1]);
  x.addWorker("g", 1, "g", { GPU: 1 });
  x.submit([t("g-1", [], GPU1), t("g-2", [], GPU1)]);
  assert.deepEqual(x.states(["g-1", "g-2"]), ["processing", "queued"]);
  x.removeWorker("g");
  assert.deepEqual(x.states(["g-1", "g-2"]), ["no-worker", "no-worker"]);
  x.addWorker("h", 1, "h", { GPU: 2 });
  assert.equal(x.on("g-1"), "h");
  assert.equal(x.on("g-2"), "h");
});

Deno.test("resources: queued tasks go to whichever fitting worker frees up first", () => {
  const x = sim([]);
  x.addWorker("a", 1, "a", { GPU: 1 });
  x.addWorker("b", 1, "b", { GPU: 1, T: 1 });
  x.submit([t("g-1", [], GPU1), t("g-2", [], GPU1), t("t-1", [], { rs: { T: 1 } })]);
  x.submit([t("g-3", [], GPU1), t("t-2", [], { rs: { T: 1 } })]);
  assert.deepEqual(x.states(["g-1", "g-2", "g-3", "t-1", "t-2"]), [
    "processing",
    "processing",
    "queued",
    "processing",
    "queued",
  ]);
  x.finish("t-1");
  assert.equal(x.on("t-2"), "b", "a T task skips ahead of a GPU task that does not fit");
  x.finish(x.task("g-1").processingOn!.address === "a" ? "g-1" : "g-2");
  assert.equal(x.on("g-3"), "a");
});

Deno.test("resources: restrictions and resources both hold", () => {
  const x = sim([]);
  x.addWorker("a", 1, "a", { GPU: 1 });
  x.addWorker("b", 1, "b", { GPU: 1 });
  x.submit([t("g-1", [], { ...GPU1, w: ["b"] }), t("g-2", [], { ...GPU1, w: ["b"] })]);
  assert.equal(x.on("g-1"), "b");
  assert.equal(x.state("g-2"), "queued");
  x.finish("g-1");
  assert.equal(x.on("g-2"), "b");
});

// ------------------------------------------------------------------ in-task (issue 4)

// Dask: test_client.py::test_secede_balances (scheduler side) — a seceded task frees its slot.
Deno.test("long-running: a seceded task frees its slot and its occupancy; it still finishes", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("p-1"), t("p-2"), t("p-3")]);
  assert.deepEqual(x.states(["p-1", "p-2"]), ["processing", "queued"]);
  x.secede("p-1");
  assert.equal(x.state("p-2"), "processing", "the freed slot takes the queued task");
  assert.equal(x.s.workers.get("a")!.busy, 1);
  x.secede("p-1"); // again: no change
  x.finish("p-1");
  assert.equal(x.s.workers.get("a")!.longRunning.size, 0);
  assert.equal(x.state("p-1"), "memory");
});

// Dask: test_client.py::test_sub_submit_priority
Deno.test("test_sub_submit_priority: a task submitted from a task ranks before its siblings", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("p-1"), t("p-2"), t("p-3")]);
  x.submit([t("p-c1", [], { ps: "p-1" }), t("p-c2", [], { ps: "p-1" })], undefined, "c");
  x.submit([t("p-cc1", [], { ps: "p-c1" })]);
  const rank = (k: string) => x.task(k).rank;
  assert.ok(rank("p-c1") < rank("p-2") && rank("p-c2") < rank("p-3"));
  assert.ok(rank("p-cc1") < rank("p-c2"), "a grandchild before the children");
  assert.equal(rank("p-c1"), rank("p-c2"), "siblings keep submission order");
  x.submit([t("p-h1", [], { ps: "p-1", p: 1 })]);
  assert.ok(rank("p-h1") < rank("p-cc1"), "user priority comes first");
  x.finish("p-1");
  assert.deepEqual(x.computed("a"), ["p-1", "p-h1"], "the freed slot goes to a subtask");
});

Deno.test("resources: ordinary tasks finishing do not rescan the resource queue", () => {
  const x = sim([]);
  x.addWorker("a", 1, "a", { GPU: 1 }); // GPU free, but the queued tasks need T
  x.addWorker("b", 1, "b", { T: 1 });
  x.submit([t("t-1", [], { rs: { T: 1 } }), t("t-2", [], { rs: { T: 1 } })]);
  assert.equal(x.state("t-2"), "queued");
  // observe which needs the scheduler looks up (the map still behaves as before)
  const looked: string[] = [];
  const needs = x.s.resourceNeeds;
  const get = needs.get.bind(needs);
  needs.get = (ts) => {
    looked.push(ts.key);
    return get(ts);
  };
  x.submit([t("o-1", [], { w: ["a"] })]);
  x.finish("o-1");
  assert.ok(!looked.includes("t-2"), `the queue was scanned: ${looked}`);
  x.finish("t-1");
  assert.equal(x.on("t-2"), "b");
});

// Dask: SchedulerState.is_rootish — only large groups of root tasks queue
Deno.test("root-ish: a prefix of at most twice the threads goes straight to the workers", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("a-1"), t("a-2")]); // 2 tasks, 1 thread: not root-ish
  assert.deepEqual(x.states(["a-1", "a-2"]), ["processing", "processing"]);
  x.submit([t("b-1"), t("b-2"), t("b-3")]); // 3 > 2: root-ish, and the worker is full
  assert.deepEqual(x.states(["b-1", "b-2", "b-3"]), ["queued", "queued", "queued"]);
  x.addWorker("b", 1); // 2 threads now: a fourth b task still makes the group root-ish...
  x.submit([t("b-4"), t("b-5")]);
  assert.equal(x.s.counts.queued + x.s.counts.processing, 7);
  x.submit([t("c-1", [], { w: ["a"] })]); // ...but a restricted task never queues
  assert.equal(x.state("c-1"), "processing");
});

// ------------------------------------------------------------------ plain update-graph columns

/** The keys of `key`'s dependencies, in order. */
function depKeys(x: Sim, key: string): string[] {
  return x.task(key).deps.map((d) => d.key);
}

/** An option-less task spec with arguments `bytes` (opaque to the scheduler). */
function raw(k: string, bytes: Uint8Array, deps: string[] = []): TaskSpec {
  return t(k, deps, { a: new Payload(bytes, []) });
}

Deno.test("plain: tasks are made in order, wanted, linked to deps in the block or before", () => {
  const x = sim([]);
  x.submitPlain([t("a-1"), t("a-2")]);
  x.submitPlain([
    t("b-1", ["a-1"]),
    t("c-1", ["b-1", "a-2"]),
    t("d-1", ["c-1", "a-1", "c-1"]), // listed twice: linked once
    t("e-1"),
  ]);
  const keys = ["a-1", "a-2", "b-1", "c-1", "d-1", "e-1"];
  const orders = keys.map((k) => x.task(k).order);
  for (let i = 1; i < orders.length; i++) assert.ok(orders[i] > orders[i - 1], `${orders}`);
  for (const k of keys) {
    const ts = x.task(k);
    assert.deepEqual([...ts.wants()], ["c"], `${k} is not wanted by c`);
    assert.equal(ts.fn, FN.h);
    assert.equal(ts.prefix, k.split("-")[0]);
  }
  assert.deepEqual(depKeys(x, "a-1"), []);
  assert.deepEqual(depKeys(x, "b-1"), ["a-1"]);
  assert.deepEqual(depKeys(x, "c-1"), ["b-1", "a-2"]);
  assert.deepEqual(depKeys(x, "d-1"), ["c-1", "a-1"]);
  assert.deepEqual(depKeys(x, "e-1"), []);
  assert.deepEqual([...x.task("a-1").dependents ?? []].map((d) => d.key).sort(), ["b-1", "d-1"]);
  assert.deepEqual(x.wantedBy("c"), keys);
  assert.deepEqual(
    x.states(keys),
    ["no-worker", "no-worker", "waiting", "waiting", "waiting", "no-worker"],
  );
  // a worker joins: the whole graph runs in order of dependencies
  x.addWorker("a", 4);
  assert.deepEqual(x.computed("a").sort(), ["a-1", "a-2", "e-1"]);
  x.finish("a-1");
  x.finish("a-2");
  assert.deepEqual(x.computed("a"), ["b-1"]);
  x.finish("b-1");
  x.finish("c-1");
  x.finish("d-1");
  x.finish("e-1");
  assert.deepEqual(inMemory(x.takeClient()).sort(), keys);
});

Deno.test("plain: tasks run f[fi]; a second function in the block is used", () => {
  const x = sim([3]);
  x.submitPlain([t("a-1"), t("s-1", [], { f: FN2.h }), t("a-2")]);
  assert.deepEqual(["a-1", "s-1", "a-2"].map((k) => x.task(k).fn), [FN.h, FN2.h, FN.h]);
  const fns = x.computes("a").map((m) => [m.k, m.f]);
  assert.deepEqual(fns, [["a-1", FN.h], ["s-1", FN2.h], ["a-2", FN.h]]);
});

Deno.test("plain: a key already known is only wanted again, its deps in the block skipped", () => {
  const x = sim([]);
  x.submitPlain([t("a-1"), t("b-1", ["a-1"])]);
  const order = x.task("b-1").order;
  x.addClient("d");
  // b-1 names other deps this time (one unknown): they are not read; e-1's are its own
  x.submitPlain([t("b-1", ["gone-1", "a-1"]), t("e-1", ["b-1"])], "d");
  assert.equal(x.task("b-1").order, order);
  assert.deepEqual(depKeys(x, "b-1"), ["a-1"]);
  assert.deepEqual(depKeys(x, "e-1"), ["b-1"]);
  assert.equal(x.task("a-1").dependents?.size, 1);
  assert.equal(x.state("b-1"), "waiting", "b-1 erred on the deps it was sent again");
  assert.deepEqual([...x.task("b-1").wants()].sort(), ["c", "d"]);
  assert.deepEqual(x.wantedBy("d"), ["b-1", "e-1"]);
  assert.deepEqual(x.wantedBy("c"), ["a-1", "b-1"]);
  assert.deepEqual(erred(x.takeClient("d")), []);
});

Deno.test("plain: a key in memory is not run again; the client is told key-in-memory", () => {
  const x = sim();
  x.submitPlain([t("a-1")]);
  x.finish("a-1");
  x.flush();
  x.addClient("d");
  x.submitPlain([t("a-1"), t("b-1", ["a-1"])], "d");
  assert.deepEqual(inMemory(x.takeClient("d")), ["a-1"]);
  assert.deepEqual(x.computed("a"), ["b-1"]);
  assert.deepEqual(x.takeClient("c"), []);
  assert.deepEqual([...x.task("a-1").wants()].sort(), ["c", "d"]);
  // the same client again: told again
  x.submitPlain([t("a-1")]);
  assert.deepEqual(inMemory(x.takeClient("c")), ["a-1"]);
});

Deno.test("plain: an erred key submitted again returns its error, no recompute", () => {
  const x = sim();
  x.submitPlain([t("a-1")]);
  x.err("a-1");
  x.flush();
  x.submitPlain([t("a-1")]);
  assert.deepEqual(x.computed("a"), []);
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "a-1");
  assert.deepEqual(e.e, BOOM);
});

Deno.test("plain: a function the client never sent: the task errs with ProtocolError", () => {
  const x = sim();
  x.submitPlain([t("a-1"), t("b-1", [], { f: "nope" }), t("c-1", ["b-1"])], "c", [FN]);
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["processing", "erred", "erred"]);
  const errs = erred(x.takeClient());
  assert.deepEqual(errs.map((e) => e.k).sort(), ["b-1", "c-1"]);
  for (const e of errs) {
    assert.equal(e.e.name, "ProtocolError");
    assert.match(e.e.message, /nope/);
    assert.equal(e.blame, "b-1");
  }
  assert.deepEqual(x.computed("a"), ["a-1"]);
});

Deno.test("plain: a dependency unknown to the scheduler: the task errs with CancelledError", () => {
  const x = sim();
  x.submitPlain([t("b-1", ["gone-1"]), t("c-1", ["b-1"]), t("d-1")]);
  assert.deepEqual(x.states(["b-1", "c-1", "d-1"]), ["erred", "erred", "processing"]);
  const errs = erred(x.takeClient());
  assert.deepEqual(errs.map((e) => e.k).sort(), ["b-1", "c-1"]);
  for (const e of errs) {
    assert.equal(e.e.name, "CancelledError");
    assert.match(e.e.message, /gone-1/);
    assert.equal(e.blame, "b-1");
  }
  assert.deepEqual(x.computed("a"), ["d-1"]);
  x.release(["b-1", "c-1", "d-1"]);
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("plain: tasks from a client not connected are not kept", () => {
  const x = sim();
  x.submitPlain([t("a-1"), t("b-1", ["a-1"])], "ghost");
  assert.equal(x.s.tasks.size, 0);
  assert.deepEqual(x.computed("a"), []);
});

Deno.test("plain: each task keeps exactly its bytes, in the slab or (> SLAB_MAX) its own", () => {
  const x = sim([]);
  const fill = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => seed + i);
  const sizes = [5, SLAB_MAX + 1, 0, SLAB_MAX, 3000, 1, SLAB_MAX - 1, 17];
  const specs = sizes.map((n, i) => raw(`x-${i}`, fill(n, i * 7)));
  // the fixture's own arguments (msgpack) too, small and large
  specs.push(t("y-1", ["x-0"]), t("y-2", [], { a: encodeValue(["z".repeat(3 * SLAB_MAX)]) }));
  assert.equal(specs.at(-1)!.a.frames.length, 0);
  assert.ok(specs.at(-1)!.a.header.length > SLAB_MAX);
  const plain = x.submitPlain(specs);
  plain.a.header.fill(0xee); // the block's buffer is not kept: the scheduler has copies
  for (const spec of specs) {
    const args = x.task(spec.k).args;
    assert.ok(args, `${spec.k} has no arguments`);
    assert.equal(args.frames.length, 0);
    assert.deepEqual(args.header, spec.a.header, `${spec.k}: arguments differ`);
  }
  // ...and they reach the worker as given
  x.addWorker("a", 20);
  const sent = new Map(x.computes("a").map((m) => [m.k, m.a]));
  for (const spec of specs.filter((s) => !s.d.length)) {
    assert.deepEqual(sent.get(spec.k)?.header, spec.a.header, `${spec.k}: compute-task args`);
  }
});

Deno.test("plain: many small arguments fill more than one slab chunk, each kept intact", () => {
  const x = sim([]);
  const specs: TaskSpec[] = [];
  for (let i = 0; i < 60; i++) {
    const n = SLAB_MAX - (i % 3); // > 16 KiB in total: the slab starts new chunks mid-block
    specs.push(raw(`m-${i}`, new Uint8Array(n).fill(i + 1), i ? [`m-${i - 1}`] : []));
  }
  x.submitPlain(specs);
  for (const spec of specs) {
    assert.deepEqual(x.task(spec.k).args?.header, spec.a.header, `${spec.k}: arguments differ`);
  }
});
