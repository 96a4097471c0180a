/**
 * Workload k of `deno task bench`: Lock round trips from one client: 2,000 sequential
 * `acquire()` + `release()` pairs on one uncontended Lock, each awaited (two requests to the
 * scheduler and their answers per pair). The client dials the scheduler's tcp:// address, as
 * Dask's client does.
 */
import { Client, LocalCluster, type LocalClusterOptions, Lock } from "../mod.ts";
import { type Figures, median } from "./stats.ts";

/** Pairs per run. */
const PAIRS = 2_000;

/** Workload k: a warm-up run, then `reps` measured ones: pairs per second. */
export async function runLockRate(shape: LocalClusterOptions, reps: number): Promise<Figures> {
  await using cluster = await LocalCluster.start(shape);
  await using client = await Client.connect(cluster.schedulerAddress);
  const lock = new Lock("bench-k", { client });
  const samples: number[] = [];
  for (let run = 0; run <= reps; run++) {
    const t = performance.now();
    for (let i = 0; i < PAIRS; i++) {
      if (!await lock.acquire()) throw new Error("the lock was not granted");
      await lock.release();
    }
    if (run > 0) samples.push(PAIRS / ((performance.now() - t) / 1000)); // the first warms up
  }
  if (await lock.locked()) throw new Error("the lock is still held");
  return { k_lock_pairs_per_s: { median: median(samples), samples } };
}
