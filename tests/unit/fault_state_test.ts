/**
 * Fault tolerance in the scheduler's pure parts: liveness (worker TTL), cancelAll
 * (client.restart()), retire planning, and worker loss with the exit status in KilledWorker.
 * The state machine is driven through the shared harness.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import type { SchedulerConfig } from "../../scheduler/state.ts";
import { Liveness, ttlCheckInterval } from "../../scheduler/liveness.ts";
import { planRetire, resolveWorkers } from "../../scheduler/retire.ts";
import { cancelled, erred, Sim } from "../fixtures/scheduler_harness.ts";

/** Client "c" and workers "a", "b", ... named "n-a", "n-b", ...; no queuing. */
function setup(nWorkers: number, config: Partial<SchedulerConfig> = {}) {
  const x = new Sim({ workerSaturation: Infinity, ...config });
  x.addClient("c");
  for (let i = 0; i < nWorkers; i++) add(x, String.fromCharCode(97 + i));
  return x;
}

/** A worker named after its address, as `setup` makes them. */
function add(x: Sim, address: string): void {
  x.addWorker(address, 1, `n-${address}`);
}

// ------------------------------------------------------------------ liveness

Deno.test("liveness: a worker is expired once not seen for more than the TTL; heartbeats renew", () => {
  const l = new Liveness();
  l.seen("a", 0);
  l.seen("b", 100);
  assert.deepEqual(l.expired(1000, 1000), []);
  assert.deepEqual(l.expired(1001, 1000), ["a"]);
  assert.deepEqual(l.expired(1101, 1000), ["a", "b"], "oldest first");
  l.seen("a", 1050); // heartbeat
  assert.deepEqual(l.expired(1101, 1000), ["b"]);
  l.forget("b");
  assert.deepEqual(l.expired(5000, 1000), ["a"]);
  assert.equal(l.lastSeen("b"), undefined);
});

Deno.test("liveness: the TTL is checked often enough, never in a busy loop", () => {
  assert.equal(ttlCheckInterval(300_000), 1000);
  assert.equal(ttlCheckInterval(400), 100);
  assert.equal(ttlCheckInterval(1), 10);
});

// ------------------------------------------------------------------ worker loss

// dask: test_KilledWorker_informative_message
Deno.test("KilledWorker names the key, the number of workers, the last worker and how it died", () => {
  const x = setup(1, { allowedFailures: 1 });
  x.submit([t("boom-1")]);
  x.removeWorker("a", false, "connection closed; its process ended: exit code 3");
  add(x, "b");
  assert.equal(x.on("boom-1"), "b");
  x.removeWorker("b", false, "connection closed; its process ended: killed by signal SIGKILL");
  const [e] = erred(x.takeClient());
  assert.equal(e.e.name, "KilledWorker");
  assert.match(e.e.message, /'boom-1' on 2 different workers/);
  assert.match(e.e.message, /last worker was b \(.*killed by signal SIGKILL\)/);
});

Deno.test("a task whose thread died is suspicious: run again, then KilledWorker naming the thread", () => {
  const x = setup(2, { allowedFailures: 1 });
  x.submit([t("exits-1", [], { r: 2 })]);
  const first = x.on("exits-1");
  x.s.taskCrashed(first, "exits-1", "thread 0 died: the thread exited (Deno.exit?)");
  const ts = x.s.tasks.get("exits-1")!;
  assert.equal(ts.state, "processing", "run again");
  assert.equal(ts.suspicious, 1);
  assert.equal(ts.retries, 2, "a thread's death uses up no retry");
  const second = x.on("exits-1");
  x.s.taskCrashed(first === second ? "b" : first, "exits-1", "stale: not where it runs");
  assert.equal(ts.suspicious, 1, "a report from a worker it does not run on is ignored");
  x.s.taskCrashed(second, "exits-1", "thread 1 died: the thread exited (Deno.exit?)");
  const [e] = erred(x.takeClient());
  assert.equal(e.e.name, "KilledWorker");
  assert.match(e.e.message, /'exits-1' on 2 different workers/);
  assert.match(e.e.message, /last worker was [ab] \(thread 1 died: the thread exited/);
});

Deno.test("worker deaths do not use up retries; a task error does", () => {
  const x = setup(1, { allowedFailures: 1 });
  x.submit([t("r-1", [], { r: 2 })]);
  x.removeWorker("a", false, "died");
  add(x, "b");
  assert.equal(x.s.tasks.get("r-1")!.retries, 2);
  x.err("r-1", "b", { name: "Error", message: "x" });
  assert.equal(x.s.tasks.get("r-1")!.retries, 1);
  assert.equal(x.s.tasks.get("r-1")!.state, "processing", "retried");
  x.removeWorker("b", false, "died");
  assert.equal(x.s.tasks.get("r-1")!.state, "erred", "two deaths > allowedFailures = 1");
});

Deno.test("expected departures (retire, restart) never count as suspicious", () => {
  const x = setup(2, { allowedFailures: 0 });
  x.submit([t("r-0"), t("r-1")]);
  x.removeWorker("a", true, "retired");
  x.removeWorker("b", true, "restarted");
  for (const k of ["r-0", "r-1"]) {
    assert.equal(x.s.tasks.get(k)!.suspicious, 0);
    assert.equal(x.s.tasks.get(k)!.state, "no-worker");
  }
});

// ------------------------------------------------------------------ restart

// dask: test_restart, test_multiple_clients_restart
Deno.test("cancelAll: every client's keys are cancelled and forgotten, in every state", () => {
  const x = setup(2);
  x.addClient("d");
  x.submit([t("m-1"), t("p-1"), t("w-1", ["p-1"])]);
  x.submit([t("m-1"), t("e-1")], ["m-1", "e-1"], "d");
  x.finish("m-1");
  x.err("e-1", x.on("e-1"), { name: "Error", message: "x" });
  assert.deepEqual(
    ["m-1", "p-1", "w-1", "e-1"].map((k) => x.s.tasks.get(k)!.state),
    ["memory", "processing", "waiting", "erred"],
  );
  x.cancelAll("restarted");
  assert.deepEqual(cancelled(x.takeClient("c")).sort(), ["m-1", "p-1", "w-1"]);
  assert.deepEqual(cancelled(x.takeClient("d")).sort(), ["e-1", "m-1"]);
  assert.equal(x.s.tasks.size, 0);
  for (const ws of x.s.workers.values()) {
    assert.equal(ws.processing.size, 0);
    assert.equal(ws.hasWhat.size, 0);
  }
  // new work runs afterwards, the same key computed anew
  x.submit([t("m-1")]);
  assert.equal(x.s.tasks.get("m-1")!.state, "processing");
});

// ------------------------------------------------------------------ retire

// dask: test_retire_workers, test_close_gracefully
Deno.test("planRetire: keys only on the leaving worker go to the emptiest other; nothing new goes there", () => {
  const x = setup(3);
  x.submit([t("x-1", [], { w: ["a"] }), t("y-1", [], { w: ["a"] }), t("z-1", [], { w: ["c"] })]);
  for (const k of ["x-1", "y-1", "z-1"]) x.finish(k);
  x.replicasArrived("b", ["y-1"]); // y-1 also lives on b
  const leaving = resolveWorkers(x.s, ["n-a", "nobody"]);
  assert.deepEqual(leaving.map((w) => w.address), ["a"]);
  const plan = planRetire(x.s, leaving);
  assert.deepEqual([...plan], [["b", { "x-1": ["a"] }]]);
  assert.equal(x.s.workers.get("a")!.status, "closing");
  x.submit([t("n-1")]);
  assert.notEqual(x.on("n-1"), "a");
  // the copy arrives, then the worker leaves: nothing is recomputed
  x.replicasArrived("b", ["x-1"]);
  x.removeWorker("a", true, "retired");
  for (const k of ["x-1", "y-1"]) {
    assert.equal(x.s.tasks.get(k)!.state, "memory");
    assert.deepEqual([...x.s.tasks.get(k)!.whoHas!].map((w) => w.address), ["b"]);
  }
  assert.deepEqual(x.computed("b").filter((k) => k === "x-1" || k === "y-1"), []);
});

Deno.test("planRetire with no other running worker plans nothing", () => {
  const x = setup(1);
  x.submit([t("x-1")]);
  x.finish("x-1");
  assert.equal(planRetire(x.s, resolveWorkers(x.s, ["a"])).size, 0);
});
