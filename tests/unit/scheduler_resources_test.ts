/**
 * Worker resources: tasks that need them run only where enough is free, queue while it is busy.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { sim } from "../fixtures/scheduler_harness.ts";

// ------------------------------------------------------------------ resources

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
