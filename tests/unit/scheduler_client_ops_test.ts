/**
 * The scheduler state machine's client operations, driven through the shared harness: cancel
 * (cascade, other clients, force), retry, fire-and-forget, and scatter (plan, update-data).
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { FIRE_AND_FORGET } from "../../scheduler/graph_state.ts";
import type { SchedulerConfig } from "../../scheduler/state.ts";
import { cancelled, Sim } from "../fixtures/scheduler_harness.ts";

/** A state machine without work stealing, with the given clients connected. */
function harness(clients: string[] = ["c"], config: Partial<SchedulerConfig> = {}): Sim {
  const h = new Sim({ workStealing: false, ...config });
  for (const c of clients) h.addClient(c);
  return h;
}

// dask: test_cancel — cancelling x also cancels y and z that depend on it; nothing is left.
Deno.test("cancel cascades to dependents only this client wants; the worker drops x", () => {
  const h = harness();
  h.addWorker("a");
  h.submit([t("x"), t("y", ["x"]), t("z", ["y"])]);
  assert.equal(h.state("x"), "processing");
  h.takeClient();
  h.takeWorker("a");
  h.cancel(["x"]);
  assert.deepEqual(cancelled(h.takeClient()).sort(), ["y", "z"]); // x: the client settled it itself
  assert.equal(h.s.tasks.size, 0);
  assert.deepEqual(h.freed("a"), ["x"]);
});

// dask: test_cancel_multi_client — another client's interest keeps the key running.
Deno.test("cancel without force keeps keys other clients want; force cancels theirs too", () => {
  const h = harness(["c", "d"]);
  h.addWorker("a");
  h.submit([t("x")], ["x"], "c");
  h.submit([], ["x"], "d");
  h.cancel(["x"]);
  assert.equal(h.state("x"), "processing");
  assert.ok(!h.s.tasks.get("x")!.hasWant("c"));
  assert.deepEqual(cancelled(h.takeClient("d")), []);
  h.cancel(["x"], "c", true);
  assert.equal(h.state("x"), "forgotten");
  assert.deepEqual(cancelled(h.takeClient("d")), ["x"]);
});

Deno.test("cancel does not cascade into a dependent another client wants (without force)", () => {
  const h = harness(["c", "d"]);
  h.addWorker("a");
  h.submit([t("x")], ["x"], "c");
  h.submit([t("y", ["x"])], ["y"], "d");
  h.cancel(["x"]);
  assert.equal(h.state("x"), "processing"); // y still needs it
  assert.equal(h.state("y"), "waiting");
  assert.deepEqual(cancelled(h.takeClient("d")), []);
  h.finish("x");
  h.finish("y");
  assert.equal(h.state("y"), "memory");
  assert.equal(h.state("x"), "released"); // nobody wants its value; kept as y's lineage
});

// dask: test_cancel_fire_and_forget — force cancels a fire-and-forget key and its graph.
Deno.test("force-cancel of a fire-and-forget key drains the scheduler", () => {
  const h = harness();
  h.addWorker("a");
  h.submit([t("x"), t("y", ["x"]), t("z", ["y"])], ["z"]);
  h.fireAndForget(["z"]);
  h.finish("x");
  h.cancel(["z"], "c", true);
  assert.equal(h.s.tasks.size, 0);
});

// dask: test_retry / test_retry_dependencies — retrying y re-runs its erred dependency x.
Deno.test("retry puts erred keys and their erred dependencies back to work", () => {
  const h = harness();
  h.addWorker("a");
  h.submit([t("x"), t("y", ["x"])], ["y"]);
  h.err("x");
  assert.equal(h.state("x"), "erred");
  assert.equal(h.state("y"), "erred");
  assert.ok(h.takeClient().some((m) => m.op === "key-erred" && m.k === "y"));
  h.takeWorker("a");
  h.retry(["y"]);
  assert.equal(h.state("x"), "processing");
  assert.equal(h.state("y"), "waiting");
  assert.deepEqual(
    h.takeWorker("a").flatMap((m) => m.op === "compute-task" ? [m.k] : []),
    ["x"],
  );
  h.finish("x");
  h.finish("y");
  assert.equal(h.state("y"), "memory");
  assert.ok(h.takeClient().some((m) => m.op === "key-in-memory" && m.k === "y"));
  assert.equal(h.s.tasks.get("y")!.exception, null);
});

Deno.test("retry of a key that is not erred changes nothing", () => {
  const h = harness();
  h.addWorker("a");
  h.submit([t("x")]);
  h.retry(["x", "unknown"]);
  assert.equal(h.state("x"), "processing");
});

// dask: test_fire_and_forget — the task runs with no client holding it, then goes away.
Deno.test("fire-and-forget keeps a released key (and its dependency) running until done", () => {
  const h = harness();
  h.addWorker("a");
  h.submit([t("dep"), t("f", ["dep"])], ["dep", "f"]);
  h.fireAndForget(["f"]);
  h.release(["f"]);
  h.removeClient("c"); // even after the client closes
  assert.equal(h.state("dep"), "processing");
  assert.equal(h.state("f"), "waiting");
  h.finish("dep");
  h.finish("f");
  assert.equal(h.state("f"), "forgotten");
  assert.equal(h.state("dep"), "forgotten");
  assert.equal([...h.s.tasks.values()].some((ts) => ts.hasWant(FIRE_AND_FORGET)), false);
});

// dask: test_fire_and_forget_err — a failing fire-and-forget task is cleared.
Deno.test("fire-and-forget of a task that errs is forgotten", () => {
  const h = harness();
  h.addWorker("a");
  h.submit([t("f")]);
  h.fireAndForget(["f"]);
  h.release(["f"]);
  h.err("f");
  assert.equal(h.state("f"), "forgotten");
});

// dask: test_scatter / test_directed_scatter / test_scatter_direct_broadcast (who gets what)
Deno.test("scatter plan: fewest bytes per thread, restrictions by address or name, broadcast", () => {
  const h = harness([]);
  assert.equal(h.scatterPlan(["k"], [8]), null); // no worker yet: the actor waits
  h.addClient("c");
  h.addWorker("a", 1, "alice");
  h.addWorker("b", 2, "bob");
  const plan = h.scatterPlan(["k1", "k2", "k3"], [100, 100, 100])!;
  const where = Object.values(plan).map((w) => w.join());
  assert.deepEqual(where.sort(), ["a", "b", "b"]); // b has two threads
  assert.deepEqual(h.scatterPlan(["k4"], [1], "c", ["alice"]), { k4: ["a"] });
  assert.deepEqual(h.scatterPlan(["k5"], [1], "c", ["b"]), { k5: ["b"] });
  assert.equal(h.scatterPlan(["k6"], [1], "c", ["nobody"]), null);
  assert.deepEqual(h.scatterPlan(["k7"], [1], "c", undefined, true), { k7: ["a", "b"] });
  assert.equal(h.state("k1"), "waiting"); // until update-data
});

Deno.test("update-data puts scattered keys in memory and wakes tasks that depend on them", () => {
  const h = harness();
  h.addWorker("a");
  h.addWorker("b");
  const plan = h.scatterPlan(["x"], [16])!;
  const holder = plan.x[0];
  // a task on x is submitted before the data arrives: it waits for it
  h.submit([t("y", ["x"])], ["y"]);
  assert.equal(h.state("y"), "waiting");
  h.takeClient();
  h.updateData({ x: [holder] }, { x: 16 });
  assert.equal(h.state("x"), "memory");
  assert.equal(h.s.tasks.get("x")!.hasArgs, false);
  assert.deepEqual([...h.s.tasks.get("x")!.whoHas!].map((w) => w.address), [holder]);
  assert.ok(h.takeClient().some((m) => m.op === "key-in-memory" && m.k === "x"));
  assert.equal(h.state("y"), "processing");
  // scattering the same key again: already in memory, nothing to send
  assert.deepEqual(h.scatterPlan(["x"], [16]), {});
  assert.ok(h.takeClient().some((m) => m.op === "key-in-memory" && m.k === "x"));
  // the holder dies: scattered data cannot be recomputed, so x and y are cancelled
  h.removeWorker(holder);
  assert.equal(h.state("x"), "forgotten");
  assert.deepEqual(cancelled(h.takeClient()).sort(), ["x", "y"]);
});

Deno.test("update-data: a value that reached no worker is cancelled; an unwanted one is freed", () => {
  const h = harness();
  h.addWorker("a");
  h.scatterPlan(["x", "z"], [1, 1]);
  h.updateData({ x: [] }, {});
  assert.equal(h.state("x"), "forgotten");
  assert.deepEqual(cancelled(h.takeClient()), ["x"]);
  h.release(["z"]); // released before its data arrived
  assert.equal(h.state("z"), "forgotten");
  h.takeWorker("a");
  h.updateData({ z: ["a"] }, { z: 1 });
  assert.deepEqual(h.freed("a"), ["z"]);
});
