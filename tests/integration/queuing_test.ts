// Root-task queuing protects worker memory: a map of large results feeding small consumers
// does not run far ahead of the consumers (Dask's worker-saturation), while tiny tasks still
// pipeline deep.
import assert from "node:assert/strict";
import { Client, Scheduler, Worker } from "../../mod.ts";
import { schedulerState } from "../../scheduler/internals.ts";

async function peakManagedBytes(workerSaturation: number): Promise<number> {
  const scheduler = await Scheduler.start({ dashboardAddress: null, config: { workerSaturation } });
  const workers = await Promise.all(
    [0, 1].map((i) =>
      Worker.start({ scheduler: scheduler.inprocAddress, nthreads: 1, inproc: true, name: `w${i}` })
    ),
  );
  let peak = 0;
  const sample = setInterval(() => {
    for (const ws of schedulerState(scheduler).workers.values()) peak = Math.max(peak, ws.nbytes);
  }, 1);
  try {
    const client = await Client.connect(scheduler.inprocAddress);
    try {
      const n = 400;
      const big = client.map(function makeBlock(i: number) {
        return new Uint8Array(256 * 1024).fill(i & 255);
      }, [
        ...Array(n).keys(),
      ]);
      const sizes = client.map((b: Uint8Array) => b.length, big);
      client.release(big); // only the small results are wanted
      const out = await client.gather(sizes);
      assert.deepEqual(out, Array(n).fill(256 * 1024));
    } finally {
      await client.close();
    }
  } finally {
    clearInterval(sample);
    await Promise.all(workers.map((w) => w.close()));
    await scheduler.close();
  }
  return peak;
}

Deno.test("queuing keeps worker memory bounded for large root results", async () => {
  const mb = 1024 * 1024;
  const queued = await peakManagedBytes(1.1);
  const unqueued = await peakManagedBytes(Infinity);
  // 400 results of 256 KiB = 100 MiB in all; with queuing a worker holds a handful at a time.
  assert.ok(queued <= 8 * mb, `with queuing a worker held up to ${(queued / mb).toFixed(1)} MiB`);
  assert.ok(
    unqueued > 2 * queued,
    `without queuing: ${(unqueued / mb).toFixed(1)} MiB, with: ${(queued / mb).toFixed(1)} MiB`,
  );
});
