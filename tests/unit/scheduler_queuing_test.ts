/**
 * Queuing (Dask's worker-saturation rule and the root-ish rule), priorities, FIFO generations,
 * adaptive pipelining of tiny tasks, tasks submitted from tasks and seceded tasks.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { runsBefore, TaskState } from "../../scheduler/task_state.ts";
import { validateState } from "../../scheduler/validate_state.ts";
import { sim } from "../fixtures/scheduler_harness.ts";

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

// ------------------------------------------------------------------ tasks submitted from tasks, seceded tasks

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
