// The quickstart and the basics of the futures API, through the public API, with real
// worker processes on 127.0.0.1.
import assert from "node:assert/strict";
import {
  asCompleted,
  CancelledError,
  Client,
  LocalCluster,
  ScopeError,
  SerializationError,
  TimeoutError,
  wait,
} from "../../mod.ts";
import { alive, until } from "./helpers.ts";

const inc = async (x: number) => {
  await new Promise((r) => setTimeout(r, 100));
  return x + 1;
};

Deno.test("quickstart: 2 worker processes x 2 threads, map + gather, nothing left behind", async () => {
  let pids: number[];
  {
    await using cluster = await LocalCluster.start({
      nWorkers: 2,
      threadsPerWorker: 2,
      dashboardAddress: ":0",
      silenceLogs: true,
    });
    assert.match(cluster.dashboardLink!, /^http:\/\/127\.0\.0\.1:\d+\/status$/);
    assert.match(cluster.schedulerAddress, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    await using client = await Client.connect(cluster);
    assert.equal(client.schedulerAddress, cluster.schedulerAddress);
    const results = await client.gather(client.map(inc, Array.from({ length: 10 }, (_, i) => i)));
    assert.deepEqual(results, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    pids = cluster.workerPids;
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.ok(alive(pid), `worker ${pid} runs`);
    assert.equal(cluster.workers.length, 2);
  }
  // `await using` closed the client and the cluster: no worker process outlives it.
  for (const pid of pids) assert.ok(!alive(pid), `worker process ${pid} still alive after close`);
});

Deno.test("the futures API on a process cluster", async (t) => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);

  await t.step(
    "a map of 10,000 tasks over 2 worker processes returns every result right",
    async () => {
      const n = 10_000;
      const futures = client.map((x: number) => x * 2 + 1, Array.from({ length: n }, (_, i) => i));
      const out = await client.gather(futures);
      assert.equal(out.length, n);
      for (let i = 0; i < n; i++) assert.equal(out[i], i * 2 + 1);
      client.release(futures);
    },
  );

  await t.step("submit returns a Future at once; await gives the value", async () => {
    const f = client.submit((a: number, b: number) => a + b, 1, 2);
    assert.equal(typeof f.key, "string");
    assert.equal(f.status, "pending");
    assert.equal(await f, 3);
    assert.equal(f.status, "finished");
    assert.ok(f.done());
    assert.equal(await f.result(), 3);
    assert.equal(await f.exception(), null);
  });

  await t.step("pure keys: same function and arguments, same key; else different", () => {
    const add = (a: number, b: number) => a + b;
    const a = client.submit(add, 1, 2), b = client.submit(add, 1, 2), c = client.submit(add, 2, 1);
    assert.equal(a.key, b.key);
    assert.notEqual(a.key, c.key);
    assert.match(a.key, /^add-[0-9a-f]{16,}$/);
    const m = client.submit((x: unknown) => x, new Map()), o = client.submit((x: unknown) => x, {});
    assert.notEqual(m.key, o.key);
    const impure = client.with({ pure: false });
    assert.notEqual(impure.submit(add, 1, 2).key, impure.submit(add, 1, 2).key);
  });

  await t.step("Futures as arguments, nested in arrays and objects", async () => {
    const x = client.submit(() => 10);
    const y = client.submit((v: number) => v + 1, x);
    const z = client.submit(
      (o: { a: number[]; b: { c: number } }) => o.a[0] + o.a[1] + o.b.c,
      { a: [x, y], b: { c: x } },
    );
    assert.equal(await z, 31);
  });

  await t.step("a tree reduction moves data between workers", async () => {
    const add = (a: number, b: number) => a + b;
    let layer = client.map((i: number) => i, Array.from({ length: 256 }, (_, i) => i));
    while (layer.length > 1) {
      const next = [];
      for (let i = 0; i < layer.length; i += 2) {
        next.push(client.submit(add, layer[i], layer[i + 1]));
      }
      layer = next;
    }
    assert.equal(await layer[0], (255 * 256) / 2);
  });

  await t.step("values of every sendable type come back as they went", async () => {
    const v = {
      u: undefined,
      n: null,
      big: 2n ** 100n,
      d: new Date(86400000),
      m: new Map<unknown, unknown>([[1, "a"], ["k", { x: 1 }]]),
      s: new Set([1, 2, 3]),
      f: new Float64Array([1.5, 2.5]),
      bytes: new Uint8Array(200_000).fill(7),
      nested: [1, "two", [3, { four: 4 }]],
    };
    const back = await client.submit((x: unknown) => x, v);
    assert.deepEqual(back, v);
  });

  await t.step("gather keeps nested structure and skips errors when asked", async () => {
    const ok = client.submit(() => 1);
    const bad = client.submit(() => {
      throw new Error("boom");
    });
    assert.deepEqual(await client.gather({ a: [ok, 2], b: { c: ok } }), { a: [1, 2], b: { c: 1 } });
    assert.deepEqual(await client.gather([ok, bad, ok], { errors: "skip" }), [1, 1]);
    await assert.rejects(client.gather([ok, bad]), { name: "Error", message: "boom" });
  });

  await t.step("a task's exception keeps its name, message and remote stack", async () => {
    const f = client.submit(function failing(x: number) {
      class ValidationError extends Error {
        override name = "ValidationError";
      }
      throw new ValidationError(`bad value ${x}`, { cause: "because" });
    }, 7);
    const e: any = await f.then(() => null, (e) => e);
    assert.equal(e.name, "ValidationError");
    assert.equal(e.message, "bad value 7");
    assert.match(e.remoteStack, /failing/);
    assert.equal(e.cause, "because");
    assert.equal(f.status, "error");
    assert.equal((await f.exception())?.message, "bad value 7");
    assert.match((await f.traceback())!, /failing/);
  });

  await t.step("dependents of a failed task fail with the same error", async () => {
    const bad = client.submit(() => {
      throw new RangeError("root cause");
    });
    const dep = client.submit((x: number) => x + 1, bad);
    await assert.rejects(dep.result(), { name: "RangeError", message: "root cause" });
  });

  await t.step("a name from the enclosing scope fails with a clear ScopeError", async () => {
    const offset = 5;
    const f = client.submit((x: number) => x + offset, 1);
    const e: any = await f.then(() => null, (e) => e);
    assert.ok(e instanceof ScopeError, `got ${e?.name}: ${e?.message}`);
    assert.match(e.message, /offset/);
    assert.match(e.message, /argument/);
  });

  await t.step("bad input fails at submit with a clear error", () => {
    assert.throws(() => client.submit((f: unknown) => f, () => 1), SerializationError);
    assert.throws(() => client.submit((s: unknown) => s, Symbol("x")), SerializationError);
    const obj = {
      m(x: number) {
        return x;
      },
    };
    assert.throws(() => client.submit(obj.m, 1), /method shorthand/);
    assert.throws(() => client.submit(Math.max, 1), /native/);
    assert.throws(() => client.submit(((x: number) => x).bind(null), 1), /bound/);
  });

  await t.step("result with a timeout", async () => {
    const slow = client.submit(async () => {
      await new Promise((r) => setTimeout(r, 1500));
      return 1;
    });
    await assert.rejects(slow.result({ timeout: 50 }), TimeoutError);
    assert.equal(await slow.result({ timeout: 30_000 }), 1);
  });

  await t.step("wait and asCompleted", async () => {
    const sleep = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    };
    const fs = [300, 10, 150].map((ms) => client.submit(sleep, ms));
    const first = await wait(fs, { returnWhen: "FIRST_COMPLETED" });
    assert.ok(first.done.size >= 1);
    const all = await wait(fs);
    assert.equal(all.done.size, 3);
    assert.equal(all.notDone.size, 0);
    const order: number[] = [];
    for await (const [, v] of asCompleted(fs.map((f) => f), { withResults: true })) {
      order.push(v as number);
    }
    assert.deepEqual(order.sort((a, b) => a - b), [10, 150, 300]);
    const seen = [];
    const ac = asCompleted([client.submit(sleep, 20)]);
    ac.add(client.submit(sleep, 5));
    assert.equal(ac.count(), 2);
    for await (const f of ac) seen.push(f);
    assert.equal(seen.length, 2);
    await assert.rejects(
      wait([client.submit(sleep, 2000)], { timeout: 20 }),
      TimeoutError,
    );
  });

  await t.step("released futures: the cluster forgets their data", async () => {
    const f = client.with({ pure: false }).submit(() => new Uint8Array(1000));
    await f;
    f.release();
    await assert.rejects(f.result(), CancelledError);
  });

  await t.step("whoHas, hasWhat and waitForWorkers", async () => {
    const x = client.with({ pure: false }).submit(() => "held");
    await x;
    const where = await client.whoHas([x]);
    assert.equal(where[x.key].length, 1);
    const holder = where[x.key][0];
    assert.ok(Object.keys(await client.nthreads()).includes(holder));
    const hasWhat = await client.hasWhat();
    assert.deepEqual(Object.keys(hasWhat).sort(), Object.keys(await client.nthreads()).sort());
    assert.ok(hasWhat[holder].includes(x.key));
    x.release();
    await client.waitForWorkers(2);
    await assert.rejects(client.waitForWorkers(3, { timeout: 50 }), TimeoutError);
    const pending = client.with({ pure: false }).submit(async () => {
      await new Promise((r) => setTimeout(r, 300));
    });
    assert.deepEqual(await client.whoHas(pending), { [pending.key]: [] });
    await pending;
  });

  await t.step("schedulerInfo and nthreads name workers by address", async () => {
    const info = await client.schedulerInfo();
    assert.equal(info.address, cluster.schedulerAddress);
    const addrs = Object.keys(info.workers);
    assert.equal(addrs.length, 2);
    for (const a of addrs) assert.match(a, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(Object.values(await client.nthreads()), [1, 1]);
  });
});

Deno.test("processes: false runs every actor in this process, tasks on threads", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  assert.deepEqual(cluster.workerPids, []);
  const xs = client.map((x: number) => x * x, [1, 2, 3, 4]);
  const total = client.submit((...v: number[]) => v.reduce((a, b) => a + b, 0), ...xs);
  assert.equal(await total, 30);
});

Deno.test("Client.connect by address, and with no target (its own cluster)", async () => {
  {
    await using cluster = await LocalCluster.start({
      nWorkers: 1,
      threadsPerWorker: 1,
      dashboardAddress: null,
      silenceLogs: true,
    });
    await using client = await Client.connect(cluster.schedulerAddress);
    assert.equal(await client.submit((x: number) => x + 1, 41), 42);
  }
  const own = await Client.connect();
  try {
    assert.equal(await own.submit(() => "own cluster"), "own cluster");
  } finally {
    await own.close();
  }
});

Deno.test("closing the cluster also when the program throws", async () => {
  let pids: number[] = [];
  await assert.rejects(async () => {
    await using cluster = await LocalCluster.start({
      nWorkers: 1,
      threadsPerWorker: 1,
      dashboardAddress: null,
      silenceLogs: true,
    });
    pids = cluster.workerPids;
    throw new Error("user code failed");
  }, /user code failed/);
  assert.equal(pids.length, 1);
  await until(() => !alive(pids[0]), "the worker process to be gone");
});

Deno.test("waitForWorkers resolves when a worker joins; a pending wait ends with the cluster", async () => {
  const cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  const client = await Client.connect(cluster);
  try {
    const two = client.waitForWorkers(2, { timeout: 30_000 });
    await cluster.scale(2);
    await two;
    assert.equal(Object.keys(await client.nthreads()).length, 2);
    const never = client.waitForWorkers(5);
    const settled = never.then(() => "resolved", (e) => e.name);
    await client.close();
    await cluster.close();
    assert.equal(await settled, "CommClosedError");
  } finally {
    await client.close();
    await cluster.close();
  }
});
