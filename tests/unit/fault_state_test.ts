/**
 * Fault tolerance (issue 5) in the scheduler's pure parts: liveness (worker TTL), cancelAll
 * (client.restart()), retire planning, and worker loss with the exit status in KilledWorker.
 * The state machine is driven directly; every message is recorded.
 */
import assert from "node:assert/strict";
import { FN, t } from "../fixtures/task_specs.ts";
import { type SchedulerOutbox, SchedulerState } from "../../scheduler/state.ts";
import { Liveness, ttlCheckInterval } from "../../scheduler/liveness.ts";
import { planRetire, resolveWorkers } from "../../scheduler/retire.ts";
import { addReplicas } from "../../scheduler/replicas.ts";
import type {
  ComputeTask,
  KeyErred,
  SchedulerToClient,
  SchedulerToWorker,
  TaskSpec,
} from "../../comm/protocol.ts";

/** A scheduler state with a recording outbox, client "c" and workers "a", "b", ... */
function setup(nWorkers: number, config: ConstructorParameters<typeof SchedulerState>[1] = {}) {
  const toWorker = new Map<string, SchedulerToWorker[]>();
  const toClient = new Map<string, SchedulerToClient[]>();
  const out: SchedulerOutbox = {
    worker: (a, m) => void (toWorker.get(a) ?? toWorker.set(a, []).get(a)!).push(m),
    client: (c, m) => void (toClient.get(c) ?? toClient.set(c, []).get(c)!).push(m),
    event: () => {},
  };
  const s = new SchedulerState(out, { workerSaturation: Infinity, ...config });
  s.addClient("c");
  const add = (address: string) =>
    s.addWorker({ address, name: `n-${address}`, nthreads: 1, memoryLimit: 0, pid: 1 });
  for (let i = 0; i < nWorkers; i++) add(String.fromCharCode(97 + i));
  const submit = (specs: TaskSpec[], client = "c", wanted = specs.map((x) => x.k)) =>
    s.updateGraph(client, { op: "update-graph", tasks: specs, wanted, functions: [FN] });
  const on = (k: string) => s.tasks.get(k)!.processingOn!.address;
  const finish = (k: string, address = on(k)) =>
    s.taskFinished(address, { op: "task-finished", k, nbytes: 8, start: 0, stop: 1 });
  const computes = (a: string) =>
    (toWorker.get(a) ?? []).filter((m): m is ComputeTask => m.op === "compute-task").map((m) =>
      m.k
    );
  const clientMsgs = (c = "c") => toClient.get(c) ?? [];
  return { s, add, submit, on, finish, computes, clientMsgs, toWorker };
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
  x.s.removeWorker("a", "connection closed; its process ended: exit code 3");
  x.add("b");
  assert.equal(x.on("boom-1"), "b");
  x.s.removeWorker("b", "connection closed; its process ended: killed by signal SIGKILL");
  const [e] = x.clientMsgs().filter((m): m is KeyErred => m.op === "key-erred");
  assert.equal(e.e.name, "KilledWorker");
  assert.match(e.e.message, /'boom-1' on 2 different workers/);
  assert.match(e.e.message, /last worker was b \(.*killed by signal SIGKILL\)/);
});

Deno.test("worker deaths do not use up retries; a task error does", () => {
  const x = setup(1, { allowedFailures: 1 });
  x.submit([t("r-1", [], { r: 2 })]);
  x.s.removeWorker("a", "died");
  x.add("b");
  assert.equal(x.s.tasks.get("r-1")!.retries, 2);
  x.s.taskErred("b", {
    op: "task-erred",
    k: "r-1",
    e: { name: "Error", message: "x" },
    start: 0,
    stop: 1,
  });
  assert.equal(x.s.tasks.get("r-1")!.retries, 1);
  assert.equal(x.s.tasks.get("r-1")!.state, "processing", "retried");
  x.s.removeWorker("b", "died");
  assert.equal(x.s.tasks.get("r-1")!.state, "erred", "two deaths > allowedFailures = 1");
});

Deno.test("expected departures (retire, restart) never count as suspicious", () => {
  const x = setup(2, { allowedFailures: 0 });
  x.submit([t("r-0"), t("r-1")]);
  x.s.removeWorker("a", "retired", true);
  x.s.removeWorker("b", "restarted", true);
  for (const k of ["r-0", "r-1"]) {
    assert.equal(x.s.tasks.get(k)!.suspicious, 0);
    assert.equal(x.s.tasks.get(k)!.state, "no-worker");
  }
});

// ------------------------------------------------------------------ restart

// dask: test_restart, test_multiple_clients_restart
Deno.test("cancelAll: every client's keys are cancelled and forgotten, in every state", () => {
  const x = setup(2);
  x.s.addClient("d");
  x.submit([t("m-1"), t("p-1"), t("w-1", ["p-1"])]);
  x.submit([t("m-1"), t("e-1")], "d", ["m-1", "e-1"]);
  x.finish("m-1");
  x.s.taskErred(x.on("e-1"), {
    op: "task-erred",
    k: "e-1",
    e: { name: "Error", message: "x" },
    start: 0,
    stop: 1,
  });
  assert.deepEqual(
    ["m-1", "p-1", "w-1", "e-1"].map((k) => x.s.tasks.get(k)!.state),
    ["memory", "processing", "waiting", "erred"],
  );
  x.s.cancelAll("restarted");
  const cancelled = (c: string) =>
    x.clientMsgs(c).flatMap((m) => m.op === "keys-cancelled" ? m.keys : []).sort();
  assert.deepEqual(cancelled("c"), ["m-1", "p-1", "w-1"]);
  assert.deepEqual(cancelled("d"), ["e-1", "m-1"]);
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
  addReplicas(x.s, "b", ["y-1"]); // y-1 also lives on b
  const leaving = resolveWorkers(x.s, ["n-a", "nobody"]);
  assert.deepEqual(leaving.map((w) => w.address), ["a"]);
  const plan = planRetire(x.s, leaving);
  assert.deepEqual([...plan], [["b", { "x-1": ["a"] }]]);
  assert.equal(x.s.workers.get("a")!.status, "closing");
  x.submit([t("n-1")]);
  assert.notEqual(x.on("n-1"), "a");
  // the copy arrives, then the worker leaves: nothing is recomputed
  addReplicas(x.s, "b", ["x-1"]);
  x.s.removeWorker("a", "retired", true);
  for (const k of ["x-1", "y-1"]) {
    assert.equal(x.s.tasks.get(k)!.state, "memory");
    assert.deepEqual([...x.s.tasks.get(k)!.whoHas!].map((w) => w.address), ["b"]);
  }
  assert.deepEqual(x.computes("b").filter((k) => k === "x-1" || k === "y-1"), []);
});

Deno.test("planRetire with no other running worker plans nothing", () => {
  const x = setup(1);
  x.submit([t("x-1")]);
  x.finish("x-1");
  assert.equal(planRetire(x.s, resolveWorkers(x.s, ["a"])).size, 0);
});
