/**
 * Workload i of `deno task bench`: workload a (map 10,000 no-ops + gather) over TLS, beside the
 * same over plain TCP, in one run. Both clients dial the scheduler's network address (a client
 * given the cluster object would use its in-process address), so the two differ only in TLS.
 * The certificates are made with openssl in a temporary directory, removed after.
 */
import { Client, LocalCluster, type LocalClusterOptions } from "../mod.ts";
import { makeTestCerts } from "../tests/fixtures/tls_certs.ts";
import { type Figures, median } from "./stats.ts";

/** `reps` measured runs of workload a (after a warm-up) on a cluster of `shape`: tasks/s. */
async function mapGather(
  shape: LocalClusterOptions,
  client: (cluster: LocalCluster) => Promise<Client>,
  reps: number,
): Promise<number[]> {
  await using cluster = await LocalCluster.start(shape);
  await using c = await client(cluster);
  const noop = (x: number) => x;
  const samples: number[] = [];
  for (let run = 0; run <= reps; run++) {
    const n = 10_000, s = (run + 1) * n;
    const t = performance.now();
    const fs = c.map(noop, Array.from({ length: n }, (_, i) => s + i));
    await c.gather(fs);
    const dt = performance.now() - t;
    c.release(fs);
    if (run > 0) samples.push(n / (dt / 1000));
  }
  return samples;
}

/** Workload i: a over tcp:// and over tls://, each on its own cluster of `shape`. */
export async function runTlsBeside(shape: LocalClusterOptions, reps: number): Promise<Figures> {
  let certs;
  try {
    certs = await makeTestCerts();
  } catch (e) {
    console.error(`workload i skipped: cannot make certificates (${(e as Error).message})`);
    return {};
  }
  try {
    const tcp = await mapGather(shape, (c) => Client.connect(c.schedulerAddress), reps);
    const tls = await mapGather(
      { ...shape, tls: { cert: certs.cert, key: certs.key, caCerts: certs.ca } },
      (c) => Client.connect(c.schedulerAddress, { tls: { caCerts: certs.ca } }),
      reps,
    );
    return {
      i_tcp_tasks_per_s: { median: median(tcp), samples: tcp },
      i_tls_tasks_per_s: { median: median(tls), samples: tls },
    };
  } finally {
    await certs.remove();
  }
}
