/**
 * Workload j of `deno task bench`: workload b (500 sequential submit → result round trips) from a
 * client connected over the scheduler's WebSocket listener (`ws://`, the portable client's
 * transport), to set beside b over plain TCP in the same run.
 */
import { Client, LocalCluster, type LocalClusterOptions } from "../mod.ts";
import { type Figures, median } from "./stats.ts";

/** Workload j: a warm-up run, then `reps` measured ones, over ws://. */
export async function runWsLatency(shape: LocalClusterOptions, reps: number): Promise<Figures> {
  await using cluster = await LocalCluster.start({ ...shape, wsPort: 0 });
  await using client = await Client.connect(cluster.wsAddress!);
  const noop = (x: number) => x;
  const samples: number[] = [];
  for (let run = 0; run <= reps; run++) {
    const n = 500, s = (run + 1) * n;
    const t = performance.now();
    for (let i = 0; i < n; i++) {
      const f = client.submit(noop, s + i);
      await f;
      f.release();
    }
    if (run > 0) samples.push(((performance.now() - t) * 1000) / n); // the first is the warm-up
  }
  return { j_ws_latency_us: { median: median(samples), samples } };
}
