/**
 * Chaos run (issue 5): graphs of ~2,000 tasks (maps plus tree reductions, built with submit of
 * futures) run round after round while random worker processes are SIGKILLed every 300–800 ms.
 * Every result is checked. `deno task chaos --duration=60` prints kills survived, wrong results
 * (must be 0) and the time from a kill to the first task finishing on the restarted worker.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Client, type Future, LocalCluster } from "../mod.ts";

/** How a chaos run goes. */
export interface ChaosOptions {
  /** How long to keep killing workers (ms). */
  duration: number;
  /** Worker processes (default 3). */
  nWorkers?: number;
  /** Leaves per graph (default 1000: ~2,000 tasks with the reduction). */
  leaves?: number;
  /** Seed of the kill schedule. */
  seed?: number;
  /** A round that takes longer than this (ms) counts as hung and ends the run. */
  roundTimeout?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What a chaos run saw. */
export interface ChaosReport {
  kills: number;
  rounds: number;
  tasks: number;
  wrong: number;
  hung: boolean;
  /** ms from each kill to the first task finishing on the worker that replaced it. */
  recoveryMs: number[];
}

/** A seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A leaf: about 1 ms of work, so kills land mid-task. */
function leaf(round: number, i: number): number {
  const until = performance.now() + 1;
  while (performance.now() < until) { /* work */ }
  return i + 1 + round * 0;
}

function add(a: number, b: number): number {
  return a + b;
}

/** Runs the chaos workload; resolves with what it saw (the cluster is closed). */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const leaves = o.leaves ?? 1000;
  const rand = prng(o.seed ?? 1);
  await using cluster = await LocalCluster.start({
    nWorkers: o.nWorkers ?? 3,
    threadsPerWorker: 1,
    dashboardAddress: null,
    silenceLogs: true,
    allowedFailures: 100_000,
    maxRestarts: 100_000,
    restartWindow: 1000,
  });
  await using client = await Client.connect(cluster);
  const report: ChaosReport = {
    kills: 0,
    rounds: 0,
    tasks: 0,
    wrong: 0,
    hung: false,
    recoveryMs: [],
  };
  // worker address -> [name, first seen (ms epoch)], polled; first finished task per address
  const seen = new Map<string, [string, number]>();
  const firstStop = new Map<string, number>();
  const poll = () => {
    for (const w of cluster.workers) {
      if (!seen.has(w.address)) seen.set(w.address, [w.name, Date.now()]);
    }
  };
  const poller = setInterval(poll, 10);
  const kills: { name: string; at: number }[] = [];
  const start = Date.now();
  let stop = false;
  const killer = (async () => {
    while (!stop && Date.now() - start < o.duration) {
      await new Promise((r) => setTimeout(r, 300 + rand() * 500));
      if (stop || Date.now() - start >= o.duration) break;
      poll();
      const up = cluster.workers.filter((w) => w.pid !== Deno.pid);
      if (up.length === 0) continue;
      const victim = up[Math.floor(rand() * up.length)];
      try {
        Deno.kill(victim.pid, "SIGKILL");
        kills.push({ name: victim.name, at: Date.now() });
        report.kills++;
      } catch { /* it died on its own meanwhile */ }
    }
  })();
  try {
    while (Date.now() - start < o.duration || report.rounds === 0) {
      const round = report.rounds;
      const roundStart = Date.now();
      const ls = client.map(leaf, Array.from({ length: leaves }, () => round), [
        ...Array(leaves).keys(),
      ]);
      const all: Future<number>[] = [...ls];
      let level: Future<number>[] = ls;
      while (level.length > 1) {
        const next: Future<number>[] = [];
        for (let i = 0; i + 1 < level.length; i += 2) {
          next.push(client.submit(add, level[i], level[i + 1]));
        }
        if (level.length % 2) next.push(level[level.length - 1]);
        all.push(...next.filter((f) => !level.includes(f)));
        level = next;
      }
      const total = level[0];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"hung">((r) => {
        timer = setTimeout(() => r("hung"), o.roundTimeout ?? 120_000);
      });
      const got = await Promise.race([
        Promise.all([client.gather(ls), total.result()]),
        timeout,
      ]).finally(() => clearTimeout(timer));
      if (got === "hung") {
        report.hung = true;
        log(`round ${round} hung`);
        break;
      }
      const [values, sum] = got;
      values.forEach((v, i) => {
        if (v !== i + 1) report.wrong++;
      });
      if (sum !== (leaves * (leaves + 1)) / 2) report.wrong++;
      report.tasks += all.length;
      report.rounds++;
      for (const r of await client.getTaskStream({ start: roundStart })) {
        const s = r.startstops[0]?.stop ?? Infinity;
        if (s < (firstStop.get(r.worker) ?? Infinity)) firstStop.set(r.worker, s);
      }
      client.release(all);
      log(
        `round ${round}: ${all.length} tasks, ${report.kills} kills so far, ${report.wrong} wrong`,
      );
    }
  } finally {
    stop = true;
    await killer;
    clearInterval(poller);
  }
  // each kill's replacement: the first new address of the same name seen after the kill
  for (const k of kills) {
    let best: [string, number] | null = null;
    for (const [address, [name, at]] of seen) {
      if (name === k.name && at >= k.at && (!best || at < best[1])) best = [address, at];
    }
    const first = best ? firstStop.get(best[0]) : undefined;
    if (first !== undefined && first >= k.at) report.recoveryMs.push(first - k.at);
  }
  return report;
}

/** The q-quantile of sorted numbers. */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      duration: { type: "string", default: "60" },
      workers: { type: "string", default: "3" },
      seed: { type: "string", default: "1" },
    },
  });
  const duration = Number(values.duration) * 1000;
  console.log(
    `chaos: ${values.workers} workers, SIGKILL every 300-800 ms for ${values.duration} s`,
  );
  const r = await runChaos({
    duration,
    nWorkers: Number(values.workers),
    seed: Number(values.seed),
    log: (l) => console.log(l),
  });
  const lat = [...r.recoveryMs].sort((a, b) => a - b);
  console.log(`kills survived: ${r.kills}`);
  console.log(`rounds: ${r.rounds} (${r.tasks} tasks)`);
  console.log(`wrong results: ${r.wrong}`);
  console.log(`hung: ${r.hung ? "yes" : "no"}`);
  console.log(
    `kill -> first task on the restarted worker (ms, n=${lat.length}): median ` +
      `${quantile(lat, 0.5).toFixed(0)}, p90 ${quantile(lat, 0.9).toFixed(0)}, max ` +
      `${(lat.at(-1) ?? NaN).toFixed(0)}`,
  );
  Deno.exit(r.wrong === 0 && !r.hung ? 0 : 1);
}
