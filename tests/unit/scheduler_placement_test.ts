/**
 * Placement: data locality, occupancy, restrictions, and the placement functions themselves.
 */
import assert from "node:assert/strict";
import { SmallSet } from "../../scheduler/small_set.ts";
import { FN, t } from "../fixtures/task_specs.ts";
import { TaskState, WorkerState } from "../../scheduler/task_state.ts";
import { validateState } from "../../scheduler/validate_state.ts";
import { pickRootWorker, pickWorker, taskSlots } from "../../scheduler/placement.ts";
import { FN2, sim } from "../fixtures/scheduler_harness.ts";

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
