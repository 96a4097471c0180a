/**
 * The scheduler state machine's client operations (i4-graph), driven directly: cancel (cascade,
 * other clients, force), retry, fire-and-forget, and scatter (plan, update-data, who-has).
 */
import assert from "node:assert/strict";
import { FN, t } from "../fixtures/task_specs.ts";
import { type SchedulerOutbox, SchedulerState } from "../../scheduler/state.ts";
import { FIRE_AND_FORGET } from "../../scheduler/graph_state.ts";
import { TASK_STATES, type TaskStateName } from "../../scheduler/task_state.ts";
import type { SchedulerToClient, SchedulerToWorker, TaskSpec } from "../../comm/protocol.ts";

/** A SchedulerState with recorded output and consistency checks after every step. */
class Harness implements SchedulerOutbox {
  readonly s = new SchedulerState(this, { workStealing: false });
  readonly toWorker = new Map<string, SchedulerToWorker[]>();
  readonly toClient = new Map<string, SchedulerToClient[]>();

  worker(address: string, msg: SchedulerToWorker): void {
    const l = this.toWorker.get(address) ?? [];
    l.push(msg);
    this.toWorker.set(address, l);
  }
  client(id: string, msg: SchedulerToClient): void {
    const l = this.toClient.get(id) ?? [];
    l.push(msg);
    this.toClient.set(id, l);
  }
  event(): void {}

  /** Counts match the states; memory and processing agree with the workers; wants agree. */
  check(): void {
    const counts = Object.fromEntries(TASK_STATES.map((x) => [x, 0])) as Record<
      TaskStateName,
      number
    >;
    for (const [k, ts] of this.s.tasks) {
      counts[ts.state]++;
      if (ts.state === "memory") {
        assert.ok(ts.whoHas?.size, `${k} in memory nowhere`);
        for (const ws of ts.whoHas) assert.ok(ws.hasWhat.has(ts), `${k}: hasWhat disagrees`);
      } else assert.ok(!ts.whoHas?.size, `${k} (${ts.state}) has holders`);
      if (ts.state === "processing") assert.ok(ts.processingOn?.processing.has(ts));
      else assert.equal(ts.processingOn, null, `${k} (${ts.state}) has processingOn`);
      for (const c of ts.wants()) assert.ok(this.s.clients.has(c), `${k}/${c}`);
    }
    assert.deepEqual({ ...this.s.counts }, counts, "counts differ from the states");
    for (const ws of this.s.workers.values()) {
      let nbytes = 0;
      for (const ts of ws.hasWhat) nbytes += ts.nbytes;
      assert.equal(ws.nbytes, nbytes, `${ws.address}: nbytes drifted`);
    }
  }

  addWorker(address: string, nthreads = 1, name = address): void {
    this.s.addWorker({ address, name, nthreads, memoryLimit: 0, pid: 1 });
    this.check();
  }
  submit(specs: TaskSpec[], wanted = specs.map((x) => x.k), client = "c"): void {
    this.s.addClient(client);
    this.s.updateGraph(client, { op: "update-graph", tasks: specs, wanted, functions: [FN] });
    this.check();
  }
  finish(key: string): void {
    const ws = this.s.tasks.get(key)!.processingOn!;
    this.s.taskFinished(ws.address, { op: "task-finished", k: key, nbytes: 8, start: 0, stop: 1 });
    this.check();
  }
  err(key: string): void {
    const ws = this.s.tasks.get(key)!.processingOn!;
    this.s.taskErred(ws.address, {
      op: "task-erred",
      k: key,
      e: { name: "Error", message: "boom" },
      start: 0,
      stop: 1,
    });
    this.check();
  }
  state(key: string): TaskStateName {
    return this.s.tasks.get(key)?.state ?? "forgotten";
  }
  /** Messages to a client since the last call. */
  #seenC = new Map<string, number>();
  takeClient(id = "c"): SchedulerToClient[] {
    const all = this.toClient.get(id) ?? [];
    const from = this.#seenC.get(id) ?? 0;
    this.#seenC.set(id, all.length);
    return all.slice(from);
  }
  #seenW = new Map<string, number>();
  takeWorker(address: string): SchedulerToWorker[] {
    const all = this.toWorker.get(address) ?? [];
    const from = this.#seenW.get(address) ?? 0;
    this.#seenW.set(address, all.length);
    return all.slice(from);
  }
  cancelledFor(id = "c"): string[] {
    return this.takeClient(id).flatMap((m) => m.op === "keys-cancelled" ? m.keys : []);
  }
  freed(address: string): string[] {
    return this.takeWorker(address).flatMap((m) => m.op === "free-keys" ? m.keys : []);
  }
}

// dask: test_cancel — cancelling x also cancels y and z that depend on it; nothing is left.
Deno.test("cancel cascades to dependents only this client wants; the worker drops x", () => {
  const h = new Harness();
  h.addWorker("a");
  h.submit([t("x"), t("y", ["x"]), t("z", ["y"])]);
  assert.equal(h.state("x"), "processing");
  h.takeClient();
  h.takeWorker("a");
  h.s.cancelKeys("c", ["x"]);
  h.check();
  assert.deepEqual(h.cancelledFor().sort(), ["y", "z"]); // x: the client settled it itself
  assert.equal(h.s.tasks.size, 0);
  assert.deepEqual(h.freed("a"), ["x"]);
});

// dask: test_cancel_multi_client — another client's interest keeps the key running.
Deno.test("cancel without force keeps keys other clients want; force cancels theirs too", () => {
  const h = new Harness();
  h.addWorker("a");
  h.submit([t("x")], ["x"], "c");
  h.submit([], ["x"], "d");
  h.s.cancelKeys("c", ["x"]);
  h.check();
  assert.equal(h.state("x"), "processing");
  assert.ok(!h.s.tasks.get("x")!.hasWant("c"));
  assert.deepEqual(h.cancelledFor("d"), []);
  h.s.cancelKeys("c", ["x"], true);
  h.check();
  assert.equal(h.state("x"), "forgotten");
  assert.deepEqual(h.cancelledFor("d"), ["x"]);
});

Deno.test("cancel does not cascade into a dependent another client wants (without force)", () => {
  const h = new Harness();
  h.addWorker("a");
  h.submit([t("x")], ["x"], "c");
  h.submit([t("y", ["x"])], ["y"], "d");
  h.s.cancelKeys("c", ["x"]);
  h.check();
  assert.equal(h.state("x"), "processing"); // y still needs it
  assert.equal(h.state("y"), "waiting");
  assert.deepEqual(h.cancelledFor("d"), []);
  h.finish("x");
  h.finish("y");
  assert.equal(h.state("y"), "memory");
  assert.equal(h.state("x"), "released"); // nobody wants its value; kept as y's lineage
});

// dask: test_cancel_fire_and_forget — force cancels a fire-and-forget key and its graph.
Deno.test("force-cancel of a fire-and-forget key drains the scheduler", () => {
  const h = new Harness();
  h.addWorker("a");
  h.submit([t("x"), t("y", ["x"]), t("z", ["y"])], ["z"]);
  h.s.fireAndForget(["z"]);
  h.check();
  h.finish("x");
  h.s.cancelKeys("c", ["z"], true);
  h.check();
  assert.equal(h.s.tasks.size, 0);
});

// dask: test_retry / test_retry_dependencies — retrying y re-runs its erred dependency x.
Deno.test("retry puts erred keys and their erred dependencies back to work", () => {
  const h = new Harness();
  h.addWorker("a");
  h.submit([t("x"), t("y", ["x"])], ["y"]);
  h.err("x");
  assert.equal(h.state("x"), "erred");
  assert.equal(h.state("y"), "erred");
  assert.ok(h.takeClient().some((m) => m.op === "key-erred" && m.k === "y"));
  h.takeWorker("a");
  h.s.retryKeys(["y"]);
  h.check();
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
  const h = new Harness();
  h.addWorker("a");
  h.submit([t("x")]);
  h.s.retryKeys(["x", "unknown"]);
  h.check();
  assert.equal(h.state("x"), "processing");
});

// dask: test_fire_and_forget — the task runs with no client holding it, then goes away.
Deno.test("fire-and-forget keeps a released key (and its dependency) running until done", () => {
  const h = new Harness();
  h.addWorker("a");
  h.submit([t("dep"), t("f", ["dep"])], ["dep", "f"]);
  h.s.fireAndForget(["f"]);
  h.s.releaseKeys("c", ["f"]);
  h.s.removeClient("c"); // even after the client closes
  h.check();
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
  const h = new Harness();
  h.addWorker("a");
  h.submit([t("f")]);
  h.s.fireAndForget(["f"]);
  h.s.releaseKeys("c", ["f"]);
  h.err("f");
  assert.equal(h.state("f"), "forgotten");
});

// dask: test_scatter / test_directed_scatter / test_scatter_direct_broadcast (who gets what)
Deno.test("scatter plan: fewest bytes per thread, restrictions by address or name, broadcast", () => {
  const h = new Harness();
  assert.equal(h.s.scatterPlan("c", ["k"], [8]), null); // no worker yet: the actor waits
  h.s.addClient("c");
  h.addWorker("a", 1, "alice");
  h.addWorker("b", 2, "bob");
  const plan = h.s.scatterPlan("c", ["k1", "k2", "k3"], [100, 100, 100])!;
  h.check();
  const where = Object.values(plan).map((w) => w.join());
  assert.deepEqual(where.sort(), ["a", "b", "b"]); // b has two threads
  assert.deepEqual(h.s.scatterPlan("c", ["k4"], [1], ["alice"]), { k4: ["a"] });
  assert.deepEqual(h.s.scatterPlan("c", ["k5"], [1], ["b"]), { k5: ["b"] });
  assert.equal(h.s.scatterPlan("c", ["k6"], [1], ["nobody"]), null);
  assert.deepEqual(h.s.scatterPlan("c", ["k7"], [1], undefined, true), { k7: ["a", "b"] });
  assert.equal(h.state("k1"), "waiting"); // until update-data
});

Deno.test("update-data puts scattered keys in memory and wakes tasks that depend on them", () => {
  const h = new Harness();
  h.addWorker("a");
  h.addWorker("b");
  h.s.addClient("c");
  const plan = h.s.scatterPlan("c", ["x"], [16])!;
  const holder = plan.x[0];
  // a task on x is submitted before the data arrives: it waits for it
  h.submit([t("y", ["x"])], ["y"]);
  assert.equal(h.state("y"), "waiting");
  h.takeClient();
  h.s.updateData({ x: [holder] }, { x: 16 });
  h.check();
  assert.equal(h.state("x"), "memory");
  assert.equal(h.s.tasks.get("x")!.hasArgs, false);
  assert.deepEqual([...h.s.tasks.get("x")!.whoHas!].map((w) => w.address), [holder]);
  assert.ok(h.takeClient().some((m) => m.op === "key-in-memory" && m.k === "x"));
  assert.equal(h.state("y"), "processing");
  // scattering the same key again: already in memory, nothing to send
  assert.deepEqual(h.s.scatterPlan("c", ["x"], [16]), {});
  assert.ok(h.takeClient().some((m) => m.op === "key-in-memory" && m.k === "x"));
  // the holder dies: scattered data cannot be recomputed, so x and y are cancelled
  h.s.removeWorker(holder, "test");
  h.check();
  assert.equal(h.state("x"), "forgotten");
  assert.deepEqual(h.cancelledFor().sort(), ["x", "y"]);
});

Deno.test("update-data: a value that reached no worker is cancelled; an unwanted one is freed", () => {
  const h = new Harness();
  h.addWorker("a");
  h.s.addClient("c");
  h.s.scatterPlan("c", ["x", "z"], [1, 1]);
  h.s.updateData({ x: [] }, {});
  h.check();
  assert.equal(h.state("x"), "forgotten");
  assert.deepEqual(h.cancelledFor(), ["x"]);
  h.s.releaseKeys("c", ["z"]); // released before its data arrived
  h.check();
  assert.equal(h.state("z"), "forgotten");
  h.takeWorker("a");
  h.s.updateData({ z: ["a"] }, { z: 1 });
  h.check();
  assert.deepEqual(h.freed("a"), ["z"]);
});
