// A worker spills values to disk past its memory target and reads them back for tasks, peers and
// clients: the out-of-core end to end, on real worker processes and sockets.
import assert from "node:assert/strict";
import {
  Client,
  type Future,
  LocalCluster,
  Scheduler,
  wait,
  Worker,
  type WorkerOptions,
} from "../../mod.ts";
import { encodeValue } from "../../comm/serialize.ts";
import { spillSize } from "../../worker/spill_layout.ts";
import { until } from "./helpers.ts";

const MiB = 2 ** 20;

/** The peak resident memory (VmHWM) of process `pid`, in bytes. */
function peakRss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  assert.ok(m, `no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** The value of the sample of `metric` for `worker` in Prometheus text, or undefined. */
function sample(text: string, metric: string, worker: string, extra = ""): number | undefined {
  for (const line of text.split("\n")) {
    const [name, value] = line.split(" ");
    if (name === `${metric}{worker="${worker}"${extra}}`) return Number(value);
  }
  return undefined;
}

Deno.test("24 values of 32 MiB fit a 400 MiB worker by spilling, and all come back right", async () => {
  const cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: true,
    dashboardAddress: ":0",
    silenceLogs: true,
    memoryLimit: "400MiB",
    heartbeatInterval: 200,
  });
  try {
    const client = await Client.connect(cluster);
    try {
      const before = await client.schedulerInfo();
      const [address] = Object.keys(before.workers);
      const pid = before.workers[address].pid;
      const futures = Array.from(
        { length: 24 },
        (_, i) => client.submit((n: number) => new Uint8Array(32 * 2 ** 20).fill(n), i),
      );
      await wait(futures);
      for (const f of futures) assert.equal(f.status, "finished", `${f.key}: ${f.status}`);

      const base = cluster.dashboardLink!.replace(/\/status$/, "");
      let metrics = "";
      await until(async () => {
        metrics = await (await fetch(`${base}/metrics`)).text();
        const spilled = sample(metrics, "dtask_worker_memory_bytes", address, `,type="spilled"`);
        return (spilled ?? 0) > 0;
      }, "the metrics to show spilled bytes");
      assert.ok(sample(metrics, "dtask_worker_spill_bytes_total", address)! > 0, metrics);

      for (const [i, f] of futures.entries()) {
        const v = await f;
        assert.ok(v instanceof Uint8Array);
        assert.equal(v.length, 32 * MiB);
        assert.equal(v[0], i);
        assert.equal(v[v.length - 1], i);
      }
      const after = await client.schedulerInfo();
      assert.deepEqual(Object.keys(after.workers), [address], "the worker was replaced");
      assert.equal(after.workers[address].pid, pid, "the worker process was restarted");
      const peak = peakRss(pid);
      assert.ok(peak < 500 * MiB, `the worker's peak RSS was ${(peak / MiB).toFixed(0)} MiB`);
    } finally {
      await client.close();
    }
  } finally {
    await cluster.close();
  }
});

/** A scheduler, one in-process worker with `options` (1 thread) and a client; closes them all. */
async function oneWorker(options: Partial<WorkerOptions>) {
  const lines: string[] = [];
  const s = await Scheduler.start({ dashboardAddress: null, log: () => {} });
  let w: Worker | undefined;
  let c: Client | undefined;
  const close = async () => {
    await c?.close();
    await w?.close();
    await s.close();
  };
  try {
    w = await Worker.start({
      scheduler: s.inprocAddress,
      inproc: true,
      nthreads: 1,
      heartbeatInterval: 100,
      log: (l) => lines.push(l),
      ...options,
    });
    c = await Client.connect(s.inprocAddress);
    return { w, c, lines, [Symbol.asyncDispose]: close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Managed and spilled bytes only: the memory figures that do not depend on the process. */
type Held = { managed: number; spilled: number };

/** Polls the scheduler until worker `address`'s last heartbeat says `want`; `check`s each. */
async function untilHeld(
  c: Client,
  address: string,
  want: Held,
  check: (m: Held) => void = () => {},
): Promise<void> {
  let last: Held | undefined;
  await until(async () => {
    const m = (await c.schedulerInfo()).workers[address].memory!;
    last = { managed: m.managed, spilled: m.spilled };
    check(last);
    return last.managed === want.managed && last.spilled === want.spilled;
  }, `managed/spilled ${JSON.stringify(want)}`).catch((e) => {
    throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last)}`);
  });
}

/** A task's value: `n` bytes all `fill`. */
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

/** Runs the values of `futures` through one task on its worker: length, first and last byte. */
function readBack(c: Client, futures: Future<Uint8Array>[]): Future<number[][]> {
  return c.submit(
    (...vs: Uint8Array[]) => vs.map((v) => [v.length, v[0], v[v.length - 1]]),
    ...futures,
  );
}

/** What readBack answers for values `bytes(n, fill)`. */
const expected = (values: [number, number][]) => values.map(([n, f]) => [n, f, f]);

// 2000-byte values on a 10,000-byte worker with a 5000-byte target: two fit, three do not.
const LIMIT = 10_000;
const SMALL = 2000;
const LARGE = 6000;
const small = encodeValue(bytes(SMALL, 0)).nbytes;
const large = encodeValue(bytes(LARGE, 0)).nbytes;
const targetOnly = {
  memoryLimit: LIMIT,
  memoryTarget: 0.5,
  memorySpill: false,
  memoryPause: false,
  memoryTerminate: false,
} as const;

// Dask: test_worker_memory.py::test_spill_target_threshold
Deno.test("past the target the least recently used value spills; the newest stays, alone over it", async () => {
  assert.ok(2 * small <= LIMIT / 2 && 3 * small > LIMIT / 2 && large > LIMIT / 2);
  await using k = await oneWorker(targetOnly);
  const { c, w } = k;
  const put = async (n: number, fill: number) => {
    const f = c.submit(bytes, n, fill);
    await wait(f);
    return [f]; // not f itself: a Future is a thenable, which an async function would unwrap
  };
  const [x] = await put(SMALL, 1);
  await untilHeld(c, w.address, { managed: small, spilled: 0 });
  const [y] = await put(SMALL, 2);
  await untilHeld(c, w.address, { managed: 2 * small, spilled: 0 });
  const [z] = await put(SMALL, 3);
  await untilHeld(c, w.address, { managed: 2 * small, spilled: small }); // x on disk

  // a task reads x back: it is the newest then, and y goes to disk
  const t = readBack(c, [x]);
  assert.deepEqual(await t, expected([[SMALL, 1]]));
  t.release();
  await untilHeld(c, w.address, { managed: 2 * small, spilled: small });

  // a value over the target on its own stays in memory; every other one goes to disk
  const [big] = await put(LARGE, 4);
  await untilHeld(c, w.address, { managed: large, spilled: 3 * small });

  assert.deepEqual(
    await readBack(c, [x, y, z, big]),
    expected([[SMALL, 1], [SMALL, 2], [SMALL, 3], [LARGE, 4]]),
  );
});

// Dask: test_worker_memory.py::test_spill_constrained
Deno.test("maxSpill: values past the disk cap stay in memory and all come back right", async () => {
  const maxSpill = Math.floor(1.5 * spillSize(encodeValue(bytes(SMALL, 0)))); // one file
  await using k = await oneWorker({ ...targetOnly, maxSpill });
  const { c, w } = k;
  const underCap = (m: Held) =>
    assert.ok(m.spilled <= maxSpill, `${m.spilled} bytes spilled past maxSpill ${maxSpill}`);
  const futures: Future<Uint8Array>[] = [];
  for (let i = 0; i < 5; i++) {
    futures.push(c.submit(bytes, SMALL, 10 + i));
    await wait(futures[i]);
    await untilHeld(c, w.address, {
      managed: i < 2 ? (i + 1) * small : i * small,
      spilled: i < 2 ? 0 : small,
    }, underCap);
  }
  assert.deepEqual(
    await readBack(c, futures),
    expected(futures.map((_, i) => [SMALL, 10 + i])),
  );
  const m = (await c.schedulerInfo()).workers[w.address].memory!;
  underCap(m);
  assert.ok(k.lines.some((l) => /max.?spill/i.test(l)), `no maxSpill warning in ${k.lines}`);
});

Deno.test("a spilled value reaches a task on another worker process and a client's gather", async () => {
  const VALUE = 8 * MiB;
  const s = encodeValue(bytes(VALUE, 0)).nbytes;
  const cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: true,
    dashboardAddress: null,
    silenceLogs: true,
    ...targetOnly,
    memoryLimit: "40MiB", // a target of 20 MiB: two values
    heartbeatInterval: 100,
  });
  try {
    const c = await Client.connect(cluster);
    try {
      const [a, b] = Object.values((await c.schedulerInfo()).workers)
        .sort((p, q) => Number(p.name) - Number(q.name)).map((i) => i.address);
      const onA = c.with({ workers: [a] });
      const futures: Future<Uint8Array>[] = [];
      for (let i = 0; i < 4; i++) {
        futures.push(onA.submit(bytes, VALUE, i + 1));
        await wait(futures[i]);
      }
      await untilHeld(c, a, { managed: 2 * s, spilled: 2 * s }); // the first two on disk
      const got = await futures[1];
      assert.equal(got.length, VALUE);
      assert.equal(got[0], 2);
      assert.equal(got[VALUE - 1], 2);
      const onB = c.with({ workers: [b] }).submit(
        (v: Uint8Array) => [v.length, v[0], v[v.length - 1], Deno.pid],
        futures[0],
      );
      const [length, first, last, pid] = await onB;
      assert.deepEqual([length, first, last], [VALUE, 1, 1]);
      assert.equal(pid, (await c.schedulerInfo()).workers[b].pid, "it ran on B's process");
    } finally {
      await c.close();
    }
  } finally {
    await cluster.close();
  }
});

Deno.test("a spill directory that cannot be made: values stay in memory, a heavy result errs", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "dtask-spill-test-" });
  try {
    await Deno.writeTextFile(`${tmp}/file`, "not a directory");
    await using k = await oneWorker({ ...targetOnly, localDirectory: `${tmp}/file/scratch` });
    const { c, w } = k;
    const futures: Future<Uint8Array>[] = [];
    for (let i = 0; i < 3; i++) {
      futures.push(c.submit(bytes, SMALL, 20 + i));
      await wait(futures[i]);
    }
    await untilHeld(c, w.address, { managed: 3 * small, spilled: 0 });
    assert.deepEqual(
      await readBack(c, futures),
      expected(futures.map((_, i) => [SMALL, 20 + i])),
    );
    assert.ok(
      k.lines.some((l) => /Spill to disk failed.*Not a directory/.test(l)),
      `no spill failure in the log: ${k.lines.join("\n")}`,
    );

    const heavy = c.submit(bytes, LARGE, 30);
    await assert.rejects(() => heavy.result(), (e: Error) => {
      assert.equal(e.name, "SpillError");
      assert.match(e.message, /cannot create spill directory/);
      assert.match(e.message, /Not a directory/);
      return true;
    });
    const info = (await c.schedulerInfo()).workers[w.address];
    assert.equal(info?.status ?? "running", "running", "the worker is still up");
    assert.deepEqual(await readBack(c, [futures[0]]), expected([[SMALL, 20]]));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a worker removes dead workers' spill directories at start, and its own at close", async () => {
  const base = await Deno.makeTempDir({ prefix: "dtask-spill-test-" });
  const child = new Deno.Command("true").spawn();
  await child.status;
  const dead = child.pid; // a process that has exited
  const dir = (name: string) => `${base}/worker-${name}`;
  const makeDir = async (name: string, files: { pid?: number; lock?: boolean }) => {
    await Deno.mkdir(dir(name));
    if (files.pid !== undefined) await Deno.writeTextFile(`${dir(name)}/pid`, `${files.pid}\n`);
    if (files.lock) await Deno.writeTextFile(`${dir(name)}/lock`, "");
    await Deno.writeTextFile(`${dir(name)}/1.spill`, "old bytes");
  };
  await makeDir("dead", { pid: dead, lock: true });
  await makeDir("old", {}); // a worker that died while making it, long ago
  await Deno.utime(dir("old"), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
  await makeDir("young", {}); // one being made right now
  await makeDir("live", { pid: dead, lock: true });
  const held = await Deno.open(`${dir("live")}/lock`, { read: true });
  try {
    await held.lock(true); // a live worker holds its lock
    const names = async () => {
      const found: string[] = [];
      for await (const e of Deno.readDir(base)) found.push(e.name);
      return found.sort();
    };
    let own: string | undefined;
    {
      await using k = await oneWorker({ ...targetOnly, localDirectory: base });
      const { c, w } = k;
      await until(
        async () =>
          !(await names()).includes("worker-dead") && !(await names()).includes("worker-old"),
        "the dead workers' directories to go",
      );
      assert.deepEqual(await names(), ["worker-live", "worker-young"]);

      const futures: Future<Uint8Array>[] = [];
      for (let i = 0; i < 3; i++) {
        futures.push(c.submit(bytes, SMALL, 40 + i));
        await wait(futures[i]);
      }
      await untilHeld(c, w.address, { managed: 2 * small, spilled: small });
      const mine = (await names()).filter((n) => !["worker-live", "worker-young"].includes(n));
      assert.equal(mine.length, 1, `one new directory: ${mine}`);
      own = `${base}/${mine[0]}`;
      assert.equal((await Deno.readTextFile(`${own}/pid`)).trim(), `${Deno.pid}`);
      const files: string[] = [];
      for await (const e of Deno.readDir(own)) files.push(e.name);
      assert.ok(files.some((f) => f.endsWith(".spill")), `no spill file in ${files}`);
      assert.ok(files.includes("lock"), `no lock file in ${files}`);
    }
    await assert.rejects(Deno.stat(own!), Deno.errors.NotFound, "its directory outlived it");
    assert.deepEqual(await names(), ["worker-live", "worker-young"]);
  } finally {
    held.close();
    await Deno.remove(base, { recursive: true });
  }
});
