// A worker receives large values into warm regions of its buffer pool and reuses them once
// nothing holds them: repeated 64 MiB transfers between two worker processes all arrive right
// (each round has its own fill, so a region reused too early would show), the receiver's pool
// reuses the region, and a region a task keeps in a thread's global is never overwritten.
import assert from "node:assert/strict";
import { Client, LocalCluster, Scheduler, Worker } from "../../mod.ts";
import { installedBufferPool } from "../../comm/buffer_pool.ts";
import { until } from "./helpers.ts";

const SIZE = 64 * 2 ** 20;
const POOL_MODULE = new URL("../../comm/buffer_pool.ts", import.meta.url).href;

/** What the buffer pool of a worker process shows. */
interface PoolView {
  fresh: number;
  reused: number;
  free: number;
}

/** The pool of each worker process, by address (run there through client.run). */
async function pools(client: Client): Promise<Record<string, PoolView | null>> {
  return await client.run(async (url: string) => {
    const m = await import(url);
    const p = m.installedBufferPool();
    return p === null ? null : { fresh: p.stats.fresh, reused: p.stats.reused, free: p.freeBytes };
  }, POOL_MODULE) as Record<string, PoolView | null>;
}

/** A 64 MiB value whose bytes depend on `n` (and on their place, every 4 KiB). */
function make(n: number): Uint8Array {
  const b = new Uint8Array(64 * 2 ** 20).fill(n);
  for (let i = 0; i < b.length; i += 4096) b[i] = (i / 4096 + n) & 255;
  return b;
}

/** A checksum of a byte array, as a task computes it. */
function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 61) s = (s * 31 + b[i]) >>> 0;
  return (s + b.length + b[b.length - 1]) >>> 0;
}

Deno.test("repeated 64 MiB transfers into a worker's buffer pool arrive right and reuse warm memory", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: true,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const [a, b] = cluster.workers.map((w) => w.address);
  const expected = (n: number) => checksum(make(n));

  // round 0: a task on B keeps its input in a global of its thread
  const onA = client.with({ workers: a, pure: false });
  const onB = client.with({ workers: b, pure: false });
  const kept = onA.submit(make, 100);
  const keep = onB.submit(
    (x: Uint8Array) => {
      (globalThis as { kept?: Uint8Array }).kept = x;
      let s = 0;
      for (let i = 0; i < x.length; i += 61) s = (s * 31 + x[i]) >>> 0;
      return (s + x.length + x[x.length - 1]) >>> 0;
    },
    kept,
  );
  assert.equal(await keep.result(), expected(100));
  client.release([kept, keep]);

  for (let round = 1; round <= 4; round++) {
    const made = onA.submit(make, round);
    const sum = onB.submit(
      (x: Uint8Array) => {
        let s = 0;
        for (let i = 0; i < x.length; i += 61) s = (s * 31 + x[i]) >>> 0;
        return (s + x.length + x[x.length - 1]) >>> 0;
      },
      made,
    );
    assert.equal(await sum.result(), expected(round), `round ${round}`);
    client.release([made, sum]);
    if (round >= 2) {
      // the region of this round's value comes back to B's pool once B drops it
      await until(
        async () => ((await pools(client))[b]?.free ?? 0) >= SIZE,
        `the region of round ${round} back in B's pool`,
      );
    }
  }
  const view = (await pools(client))[b]!;
  assert.ok(view.reused >= 1, `B's pool reused no region: ${JSON.stringify(view)}`);

  // the value kept in the thread's global was never overwritten
  const still = onB.submit(
    () => {
      const x = (globalThis as { kept?: Uint8Array }).kept!;
      let s = 0;
      for (let i = 0; i < x.length; i += 61) s = (s * 31 + x[i]) >>> 0;
      return (s + x.length + x[x.length - 1]) >>> 0;
    },
  );
  assert.equal(await still.result(), expected(100));
});

Deno.test("a result that is a view of a pooled input keeps its region out of the pool", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: true,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const [a, b] = cluster.workers.map((w) => w.address);
  const onA = client.with({ workers: a, pure: false });
  const onB = client.with({ workers: b, pure: false });
  const sum = (x: Uint8Array) => {
    let s = 0;
    for (let i = 0; i < x.length; i += 61) s = (s * 31 + x[i]) >>> 0;
    return (s + x.length + x[x.length - 1]) >>> 0;
  };

  const input = onA.submit(make, 200);
  // its result is a view of its input, stored on B as it came back from the thread
  const alias = onB.submit((x: Uint8Array) => x.subarray(8), input);
  await alias;
  client.release([input]);
  for (let round = 1; round <= 3; round++) {
    const made = onA.submit(make, round);
    const got = onB.submit(sum, made);
    assert.equal(await got.result(), checksum(make(round)), `round ${round}`);
    client.release([made, got]);
  }
  const check = onB.submit(sum, alias);
  assert.equal(await check.result(), checksum(make(200).subarray(8)));
});

Deno.test("a worker counts its pool's free regions as managed memory and drops them when memory is short", async () => {
  const MiB = 2 ** 20;
  /** Puts a free region of `size` into the installed pool (its lend stays with the test). */
  const putFree = (size: number) => {
    const pool = installedBufferPool()!;
    const lend = pool.take(size);
    pool.threadReleased([pool.idOf(lend)!]);
    return lend;
  };
  const s = await Scheduler.start({ port: 0, dashboardAddress: null, log: () => {} });
  try {
    await using client = await Client.connect(s.address);
    const start = (memoryLimit: number) =>
      Worker.start({
        scheduler: s.address,
        nthreads: 1,
        heartbeatInterval: 20,
        memoryLimit,
        silenceLogs: true,
        log: () => {},
      });
    const roomy = await start(0);
    try {
      assert.equal(installedBufferPool()!.cap, 256 * MiB);
      putFree(8 * MiB);
      await until(async () => {
        const info = await client.schedulerInfo();
        return (info.workers[roomy.address]?.memory?.managed ?? 0) >= 8 * MiB;
      }, "the pool's free bytes in the worker's managed memory");
    } finally {
      await roomy.close();
    }
    assert.equal(installedBufferPool(), null, "the last worker's pool is gone with it");
    // far below what this process uses: past its spill threshold at once
    const short = await start(50 * MiB);
    try {
      assert.equal(installedBufferPool()!.cap, 5 * MiB);
      putFree(4 * MiB);
      assert.equal(installedBufferPool()!.freeBytes, 4 * MiB);
      await until(() => installedBufferPool()!.freeBytes === 0, "the pool trimmed");
    } finally {
      await short.close();
    }
  } finally {
    await s.close();
  }
});
