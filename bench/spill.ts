/**
 * Workload g of `deno task bench`: spill and unspill throughput, 1 GiB through a 256 MiB worker
 * (1 worker process, 1 thread, Dask's thresholds: target 0.6, spill 0.7, pause 0.8, terminate
 * 0.95). Spill: the wall time to make 32 values of 32 MiB, most of which go to disk on the way.
 * Unspill: 32 tasks run one after the other, oldest value first, each reading the first byte of
 * one value, so each brings one back from disk. Both in MB/s; bench/dask_spill.py does the same on
 * Dask.
 */
import { Client, LocalCluster, wait } from "../mod.ts";
import { type Figures, median } from "./stats.ts";

/** Values per run, and their size (MiB). */
const VALUES = 32, MIB = 32;

/** Workload g: a warm-up run, then `reps` measured ones, on one cluster. */
export async function runSpill(reps: number): Promise<Figures> {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: true,
    host: "127.0.0.1",
    dashboardAddress: null,
    silenceLogs: true,
    memoryLimit: "256MiB",
  });
  await using client = await Client.connect(cluster);
  const pid = async () => Object.values((await client.schedulerInfo()).workers)[0].pid;
  const started = await pid();
  const make = (i: number, mib: number, _run: number) => new Uint8Array(mib * 2 ** 20).fill(i);
  const first = (b: Uint8Array) => b[0];
  const spill: number[] = [], unspill: number[] = [];
  for (let run = 0; run <= reps; run++) {
    const ids = Array.from({ length: VALUES }, (_, i) => i + 1);
    const t0 = performance.now();
    const fs = client.map(make, ids, ids.map(() => MIB), ids.map(() => run));
    await wait(fs);
    const t1 = performance.now();
    for (const [i, f] of fs.entries()) {
      const b = await client.submit(first, f);
      if (b !== i + 1) throw new Error(`value ${i} read back as ${b}`);
    }
    const t2 = performance.now();
    client.release(fs);
    if (run === 0) continue; // the warm-up
    spill.push(VALUES * MIB / ((t1 - t0) / 1000));
    unspill.push(VALUES * MIB / ((t2 - t1) / 1000));
  }
  if (await pid() !== started) throw new Error("the worker was restarted during workload g");
  return {
    g_spill_mb_per_s: { median: median(spill), samples: spill },
    g_unspill_mb_per_s: { median: median(unspill), samples: unspill },
  };
}
