/**
 * A paused worker (`worker-status`): nothing new is placed there (tasks, queued root tasks,
 * stolen tasks, replicas, scattered data), what it processes stays, and work flows to it again
 * once it runs.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { sim } from "../fixtures/scheduler_harness.ts";

Deno.test("pause: new tasks go only to the running worker; what the paused one has stays", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("x-0"), t("x-1")]);
  const onA = ["x-0", "x-1"].filter((k) => x.on(k) === "a");
  assert.equal(onA.length, 1, "one each before the pause");
  x.setStatus("a", "paused");
  assert.equal(x.s.workers.get("a")!.status, "paused");
  x.submit([t("y-0"), t("y-1"), t("y-2"), t("y-3")]);
  for (const k of ["y-0", "y-1", "y-2", "y-3"]) assert.equal(x.on(k), "b", k);
  assert.equal(x.on(onA[0]), "a", "its processing task stays");
  x.finish(onA[0]);
  assert.equal(x.state(onA[0]), "memory");
  assert.equal(x.processingCount("a"), 0);
});

Deno.test("pause: queued root tasks wait for the running worker; unpause hands them out", () => {
  const x = sim([1, 1], { workerSaturation: 1 });
  x.setStatus("a", "paused");
  x.submit(Array.from({ length: 10 }, (_, i) => t(`r-${i}`)));
  assert.equal(x.processingCount("a"), 0);
  assert.equal(x.processingCount("b"), 1);
  assert.equal(x.s.counts.queued, 9);
  x.finish(x.computed("b")[0]);
  assert.equal(x.processingCount("a"), 0, "a slot freed on b fills b, not a");
  assert.equal(x.processingCount("b"), 1);
  x.setStatus("a", "running");
  assert.equal(x.s.workers.get("a")!.status, "running");
  assert.equal(x.processingCount("a"), 1, "its slot opened: a queued task went there");
  assert.equal(x.s.counts.queued, 7);
});

Deno.test("pause: with every worker paused tasks wait for a worker; unpause places them", () => {
  const x = sim([1]);
  x.setStatus("a", "paused");
  x.submit([t("r-0"), t("b-1", ["r-0"])], ["b-1"]);
  assert.deepEqual(x.states(["r-0", "b-1"]), ["no-worker", "waiting"]);
  x.setStatus("a", "running");
  assert.equal(x.on("r-0"), "a");
});

Deno.test("pause: replicas and scattered data go only to running workers", () => {
  const x = sim([1, 1, 1]);
  x.addClient("c");
  x.submit([t("x-1")]);
  const holder = x.on("x-1");
  x.finish("x-1");
  const [paused, running] = ["a", "b", "c"].filter((a) => a !== holder);
  x.setStatus(paused, "paused");
  const plan = x.replicate(["x-1"]);
  assert.deepEqual([...plan.keys()], [running]);
  assert.deepEqual(x.holders("x-1").sort(), [holder, running].sort());
  x.setStatus(holder, "paused");
  const where = x.scatterPlan(["k1", "k2", "k3"], [1, 1, 1])!;
  for (const who of Object.values(where)) assert.deepEqual(who, [running]);
  x.setStatus(running, "paused");
  assert.equal(x.scatterPlan(["k4"], [1]), null, "no running worker: the scatter waits");
});

Deno.test("pause: a paused worker takes in no keys when rebalancing but may give some away", () => {
  const x = sim([1, 1, 1], { workerSaturation: Infinity });
  x.submit([t("x-0"), t("x-1"), t("x-2"), t("x-3")]);
  for (const k of ["x-0", "x-1", "x-2", "x-3"]) x.finish(k, "a", 100);
  assert.equal(x.s.workers.get("a")!.hasWhat.size, 4);
  x.setStatus("a", "paused");
  x.setStatus("b", "paused");
  const moves = x.rebalance();
  assert.ok(moves.length > 0, "the paused a gives keys away");
  for (const m of moves) assert.deepEqual([m.from, m.to], ["a", "c"]);
});

Deno.test("pause: work stealing gives nothing to a paused worker", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.setStatus("b", "paused");
  x.submit(Array.from({ length: 6 }, (_, i) => t(`x-${i}`)));
  assert.equal(x.processingCount("a"), 6);
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), [], "no thief while b is paused");
  x.setStatus("b", "running");
  x.balance();
  assert.ok(x.stealsAsked("a").length > 0, "b steals once it runs");
});

Deno.test("pause: a closing worker stays closing; a repeated status changes nothing", () => {
  const x = sim([1, 1]);
  assert.equal(x.s.setWorkerStatus("a", "running"), false);
  assert.equal(x.s.setWorkerStatus("a", "paused"), true);
  assert.equal(x.s.setWorkerStatus("a", "paused"), false);
  x.s.workers.get("b")!.status = "closing";
  assert.equal(x.s.setWorkerStatus("b", "running"), false);
  assert.equal(x.s.workers.get("b")!.status, "closing");
  assert.equal(x.s.setWorkerStatus("nobody", "paused"), false);
});
