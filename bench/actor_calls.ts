/**
 * Workload l of `deno task bench`: actor method calls per second. A Counter actor on one worker
 * of the usual cluster; 2,000 sequential `await counter.increment()` calls from the client (each
 * a round trip client -> scheduler -> worker -> thread and back), and 2,000 made at once and
 * awaited together (the relay batches them). Dask's side: `client.submit(Counter, actor=True)`.
 */
import { Client, LocalCluster, type LocalClusterOptions } from "../mod.ts";
import { type Figures, median } from "./stats.ts";

/** Calls per measured run. */
const N = 2_000;

class Counter {
  n = 0;
  increment() {
    return ++this.n;
  }
}

/** Workload l: a warm-up run, then `reps` measured ones of each figure. */
export async function runActorCalls(shape: LocalClusterOptions, reps: number): Promise<Figures> {
  await using cluster = await LocalCluster.start(shape);
  await using client = await Client.connect(cluster);
  const counter = await client.with({ actor: true }).submit(Counter);
  const sequential: number[] = [], concurrent: number[] = [];
  let expected = 0;
  for (let run = 0; run <= reps; run++) {
    let t = performance.now();
    for (let i = 0; i < N; i++) await counter.increment();
    const seq = N / ((performance.now() - t) / 1000);
    t = performance.now();
    const all = await Promise.all(Array.from({ length: N }, () => counter.increment()));
    const conc = N / ((performance.now() - t) / 1000);
    expected += 2 * N;
    if (all[N - 1] !== expected) throw new Error(`counter at ${all[N - 1]}, not ${expected}`);
    if (run === 0) continue; // the warm-up
    sequential.push(seq);
    concurrent.push(conc);
  }
  return {
    l_actor_calls_per_s: { median: median(sequential), samples: sequential },
    l_actor_concurrent_calls_per_s: { median: median(concurrent), samples: concurrent },
  };
}
