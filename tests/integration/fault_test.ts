// Fault tolerance through the public API with real worker processes: a worker can die
// at any moment and nothing is lost; restart, retire, liveness, and the nanny's restart limit.
import assert from "node:assert/strict";
import {
  CancelledError,
  Client,
  KilledWorker,
  LocalCluster,
  Nanny,
  Scheduler,
  Worker,
} from "../../mod.ts";
import { dial } from "../../comm/dial.ts";
import { sendHello } from "../../comm/handshake.ts";
import { alive, until } from "./helpers.ts";
import { liveness, schedulerState } from "../../scheduler/internals.ts";

const quiet = { dashboardAddress: null, silenceLogs: true } as const;
const inc = (x: number) => x + 1;

/** Events of a topic, as their messages. */
async function events(client: Client, topic: string): Promise<Record<string, unknown>[]> {
  return (await client.getEvents(topic)).map(([, m]) => m as Record<string, unknown>);
}

// dask: test_nanny_process_failure, test_gather_after_failed_worker, test_submit_after_failed_worker_sync
Deno.test("a SIGKILLed worker process is restarted by its nanny; gather and submit still work", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const L = client.map(inc, Array.from({ length: 10 }, (_, i) => i));
  assert.deepEqual(await client.gather(L), Array.from({ length: 10 }, (_, i) => i + 1));
  const [victim] = cluster.workerPids;
  Deno.kill(victim, "SIGKILL");
  await until(() => !alive(victim), "the killed process to be gone");
  await until(
    () => cluster.workers.length === 2 && !cluster.workerPids.includes(victim),
    "the nanny to start a new worker process",
  );
  assert.deepEqual(await client.gather(L), Array.from({ length: 10 }, (_, i) => i + 1));
  const total = client.submit((xs: number[]) => xs.reduce((a, b) => a + b, 0), L);
  assert.equal(await total, 55);
  const removed = (await events(client, "all")).filter((e) => e.action === "remove-worker");
  assert.ok(removed.some((e) => /killed by signal SIGKILL/.test(String(e.reason))), "reason");
});

// dask: test_bad_tasks_fail, test_KilledWorker_informative_message, test_failing_task_increments_suspicious
Deno.test("a task that kills every worker it runs on errs with KilledWorker naming key, count, worker, signal", async () => {
  await using cluster = await LocalCluster.start({
    ...quiet,
    nWorkers: 1,
    threadsPerWorker: 1,
    allowedFailures: 1,
  });
  await using client = await Client.connect(cluster);
  const f = client.with({ key: "suicide-1", retries: 3 }).submit(() => {
    Deno.kill(Deno.pid, "SIGKILL");
    return 0;
  });
  const e = await f.then(() => null, (e) => e);
  assert.ok(e instanceof KilledWorker, String(e));
  assert.match(e.message, /'suicide-1' on 2 different workers/);
  assert.match(e.message, /tcp:\/\/127\.0\.0\.1:\d+/);
  assert.match(e.message, /killed by signal SIGKILL/);
  assert.equal(f.status, "error");
  // the cluster carries on: the nanny restarted the worker
  assert.equal(await client.submit(inc, 1), 2);
});

// dask: test_nanny_restart (restart intensity: past it, the nanny stops and says why)
Deno.test("past maxRestarts within restartWindow the nanny gives up and says why", async () => {
  await using cluster = await LocalCluster.start({
    ...quiet,
    nWorkers: 2,
    threadsPerWorker: 1,
    maxRestarts: 1,
    restartWindow: 60_000,
  });
  await using client = await Client.connect(cluster);
  const byName = () => cluster.workers.find((w) => w.name === "0");
  for (let round = 0; round < 2; round++) {
    const w = byName();
    assert.ok(w, `worker 0 is up before kill ${round}`);
    assert.ok(w.pid !== Deno.pid && w.pid > 0, `a worker process, not this one: ${w.pid}`);
    Deno.kill(w.pid, "SIGKILL");
    await until(() => !alive(w.pid), "the killed process to be gone");
    if (round === 0) await until(() => byName()?.pid !== w.pid && !!byName(), "a restart");
  }
  await until(
    async () => (await events(client, "all")).some((e) => e.action === "nanny-gave-up"),
    "the nanny-gave-up event",
  );
  const gaveUp = (await events(client, "all")).find((e) => e.action === "nanny-gave-up")!;
  assert.match(String(gaveUp.reason), /more than 1 times within 60000 ms/);
  await until(() => cluster.workers.length === 1, "the scheduler to drop the dead worker");
  assert.equal(await client.submit(inc, 41), 42); // the other worker still serves
});

// dask: test_restart, test_multiple_clients_restart
Deno.test("client.restart(): every future is cancelled, workers come back, new work runs; twice in a row", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  await using other = await Client.connect(cluster);
  const pids = cluster.workerPids;
  const done = client.submit(inc, 1);
  assert.equal(await done, 2);
  const slow = client.submit(async () => {
    await new Promise((r) => setTimeout(r, 60_000));
    return 0;
  });
  // a task that never yields: only a new process stops it
  const stuck = other.submit(() => {
    for (;;) { /* spin */ }
  });
  await until(
    async () => Object.values(await client.hasWhat()).length === 2 && slow.status === "pending",
    "the tasks to start",
  );
  await client.restart();
  for (const f of [slow, stuck, done]) {
    const e = await f.then(() => null, (e) => e);
    assert.ok(e instanceof CancelledError, String(e));
    assert.equal(f.status, "cancelled");
  }
  assert.equal(cluster.workers.length, 2);
  assert.ok(cluster.workerPids.every((p) => !pids.includes(p)), "every worker is a new process");
  await client.restart();
  assert.equal(await client.submit(inc, 1), 2); // same key as before: computed anew
  assert.equal(await other.submit(inc, 10), 11);
});

// dask: test_retire_workers, test_close_gracefully
Deno.test("retireWorkers moves the data to a peer first; the nanny does not restart the worker", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const [a, b] = cluster.workers.map((w) => w.address);
  const onA = client.with({ workers: a }).map(inc, [1, 2, 3]);
  assert.deepEqual(await client.gather(onA), [2, 3, 4]);
  const runsOf = async () =>
    (await client.getTaskStream()).filter((r) => onA.some((f) => f.key === r.key)).length;
  const before = await runsOf();
  await client.retireWorkers([a]);
  assert.deepEqual(cluster.workers.map((w) => w.address), [b]);
  const who = await client.whoHas(onA);
  for (const f of onA) assert.deepEqual(who[f.key], [b], `${f.key} moved to ${b}`);
  assert.deepEqual(await client.gather(onA), [2, 3, 4]);
  assert.equal(await runsOf(), before, "nothing was computed again");
  const removed = (await events(client, "all")).filter((e) => e.action === "remove-worker");
  assert.ok(removed.some((e) => e.worker === a && /retired/.test(String(e.reason))));
  // the process exits on its own and its nanny lets it be
  await until(() => cluster.workerPids.length === 1, "the retired process to end, not restarted");
  assert.equal(cluster.workers.length, 1);
});

// dask: test_worker_time_to_live
Deno.test("a worker silent for longer than workerTtl is removed with a worker-ttl-timed-out event", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null, workerTtl: 300 });
  try {
    await using client = await Client.connect(scheduler.address);
    const t = await dial(scheduler.address);
    const address = "tcp://127.0.0.1:1";
    await sendHello(t, {
      role: "worker",
      name: "silent",
      worker: { address, name: "silent", nthreads: 1, memoryLimit: 0, pid: 0 },
    }, 5000);
    await until(() => scheduler.nWorkers === 1, "the silent worker to register");
    await until(() => scheduler.nWorkers === 0, "the silent worker to be removed");
    const all = await events(client, "all");
    const ttl = all.find((e) => e.action === "worker-ttl-timed-out");
    assert.deepEqual(ttl?.workers, [address]);
    assert.equal(ttl?.ttl, 300);
    const removed = all.find((e) => e.action === "remove-worker" && e.worker === address);
    assert.match(String(removed?.reason), /worker-ttl-timed-out/);
    assert.equal(await t.readBatch(), null, "the scheduler closed its connection");
    t.close();
  } finally {
    await scheduler.close();
  }
});

// dask: test_heartbeats — a worker that keeps sending heartbeats is never timed out
Deno.test("heartbeats keep a worker alive past workerTtl", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null, workerTtl: 400 });
  const worker = await Worker.start({
    scheduler: scheduler.address,
    nthreads: 1,
    heartbeatInterval: 50,
  });
  try {
    const first = liveness(scheduler).lastSeen(worker.address)!;
    await until(
      () => liveness(scheduler).lastSeen(worker.address)! > first + 1200,
      "heartbeats for three TTLs",
    );
    assert.equal(scheduler.nWorkers, 1);
  } finally {
    await worker.close();
    await scheduler.close();
  }
});

// dask: test_closing_scheduler_closes_workers
Deno.test("closing the scheduler closes its workers", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const workers = await Promise.all(
    [0, 1].map(() => Worker.start({ scheduler: scheduler.address, nthreads: 1 })),
  );
  await scheduler.close();
  const reasons = await Promise.all(workers.map((w) => w.closed));
  for (const r of reasons) assert.match(r, /scheduler closing/);
});

Deno.test("processes: false — restart() restarts the in-process workers; retire does not restart", async () => {
  await using cluster = await LocalCluster.start({
    ...quiet,
    processes: false,
    nWorkers: 2,
    threadsPerWorker: 1,
  });
  await using client = await Client.connect(cluster);
  const before = cluster.workers.map((w) => w.address);
  const f = client.submit(inc, 1);
  assert.equal(await f, 2);
  await client.restart();
  assert.equal(f.status, "cancelled");
  const after = cluster.workers.map((w) => w.address);
  assert.equal(after.length, 2);
  assert.ok(after.every((a) => !before.includes(a)), "new workers");
  assert.equal(await client.submit(inc, 2), 3);
  await client.retireWorkers(after[0]);
  assert.deepEqual(cluster.workers.map((w) => w.address), [after[1]]);
  assert.equal(await client.submit(inc, 3), 4);
  assert.equal(cluster.workers.length, 1, "the retired worker was not started again");
});

Deno.test("restart() does not use up the restart intensity; scale() refills retired workers", async () => {
  await using cluster = await LocalCluster.start({
    ...quiet,
    nWorkers: 2,
    threadsPerWorker: 1,
    maxRestarts: 1,
  });
  await using client = await Client.connect(cluster);
  for (let i = 0; i < 3; i++) await client.restart();
  assert.equal(cluster.workers.length, 2);
  const gaveUp = (await events(client, "all")).filter((e) => e.action === "nanny-gave-up");
  assert.deepEqual(gaveUp, []);
  await client.retireWorkers(cluster.workers[0].address);
  await until(() => cluster.workerPids.length === 1, "the retired process to end");
  await cluster.scale(2);
  assert.equal(cluster.workers.length, 2);
  assert.equal(cluster.workerPids.length, 2);
  assert.equal(await client.submit(inc, 5), 6);
});

// dask: test_worker_name_collision
Deno.test("a second worker with a taken name is refused with a clear error; the first stays", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const first = await Worker.start({ scheduler: scheduler.address, nthreads: 1, name: "alice" });
  try {
    await assert.rejects(
      Worker.start({ scheduler: scheduler.address, nthreads: 1, name: "alice", connectTimeout: 0 }),
      /named "alice" is already registered .*give each worker its own name/,
    );
    assert.deepEqual([...schedulerState(scheduler).workers.keys()], [first.address]);
  } finally {
    await first.close();
    await scheduler.close();
  }
});

// A process that dies while its nanny starts it is start()'s failure only: were it also reported
// as a failure, the supervisor would start a second nanny for the same worker.
Deno.test("a worker process that dies during its nanny's start is not also reported as a failure", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const taken = await Worker.start({ scheduler: scheduler.address, nthreads: 1, name: "x" });
  try {
    const failures: unknown[] = [];
    const nanny = new Nanny({
      scheduler: scheduler.address,
      nthreads: 1,
      name: "x",
      silenceLogs: true,
      onStarted: () => {},
    });
    nanny.onFailure = (e) => failures.push(e);
    await assert.rejects(nanny.start(), /exited at start \(exit code 1\)/);
    assert.deepEqual(failures, []);
    await nanny.stop();
  } finally {
    await taken.close();
    await scheduler.close();
  }
});
