/**
 * `deno task bench`: the same workloads on dtask and on Dask (Debian's python3-distributed),
 * side by side, in one run. Prints a table of medians and ratios and writes
 * bench/results/latest.json.
 *
 * Flags: --reps N (default 5), --only a,b,..., --no-dask. Workload i (a over TLS beside plain
 * TCP) has no Dask column. Workloads g, i, k (lock round trips) and l (actor method calls) do
 * not depend on queuing: they run once, with it on.
 */
import { parseArgs } from "node:util";
import { Client, LocalCluster, type LocalClusterOptions, wait } from "../mod.ts";
import { type Figures, median, type Sample } from "./stats.ts";
import { runSpill } from "./spill.ts";
import { runDashboardCost } from "./dashboard_cost.ts";
import { runWsLatency } from "./ws_latency.ts";
import { runTlsBeside } from "./tls.ts";
import { runLockRate } from "./lock_rate.ts";
import { runActorCalls } from "./actor_calls.ts";

const { values: flags } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    only: { type: "string", default: "a,b,c,d,e,f,g,h,i,j,k,l" },
    "no-dask": { type: "boolean", default: false },
  },
});
const REPS = Number(flags.reps);
const ONLY = new Set(flags.only.split(","));
const root = new URL("../", import.meta.url);

const clusterShape = (queuing: boolean): LocalClusterOptions => ({
  nWorkers: 2,
  threadsPerWorker: 1,
  processes: true,
  host: "127.0.0.1",
  dashboardAddress: null,
  silenceLogs: true,
  workerSaturation: queuing ? undefined : Infinity,
});

async function reps(n: number, f: () => Promise<number>): Promise<Sample> {
  await f(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await f());
  return { median: median(samples), samples };
}

/** Workloads a–d and f on one cluster. */
async function runDtask(queuing: boolean): Promise<Figures> {
  const out: Figures = {};
  await using cluster = await LocalCluster.start(clusterShape(queuing));
  await using client = await Client.connect(cluster);
  const noop = (x: number) => x;
  const add = (a: number, b: number) => a + b;
  let salt = 0;

  if (ONLY.has("a")) {
    out.a_throughput_tasks_per_s = await reps(REPS, async () => {
      const n = 10_000;
      const s = ++salt * n;
      const t = performance.now();
      const fs = client.map(noop, Array.from({ length: n }, (_, i) => s + i));
      await client.gather(fs);
      const dt = performance.now() - t;
      client.release(fs);
      return n / (dt / 1000);
    });
  }
  if (ONLY.has("b")) {
    out.b_latency_us = await reps(REPS, async () => {
      const n = 500;
      const s = ++salt * n;
      const t = performance.now();
      for (let i = 0; i < n; i++) {
        const f = client.submit(noop, s + i);
        await f;
        f.release();
      }
      return ((performance.now() - t) * 1000) / n;
    });
  }
  if (ONLY.has("c")) {
    out.c_tree_tasks_per_s = await reps(REPS, async () => {
      const s = ++salt * 4096;
      const t = performance.now();
      let layer = client.map(noop, Array.from({ length: 4096 }, (_, i) => s + i));
      let total = layer.length;
      while (layer.length > 1) {
        const next = [];
        for (let i = 0; i < layer.length; i += 2) {
          next.push(client.submit(add, layer[i], layer[i + 1]));
        }
        for (const f of layer) f.release();
        layer = next;
        total += next.length;
      }
      await layer[0];
      const dt = performance.now() - t;
      layer[0].release();
      return total / (dt / 1000);
    });
  }
  if (ONLY.has("d")) {
    const [w1, w2] = cluster.workers.map((w) => w.address);
    // as many as a-c: a fresh 100 MB buffer's first touch is sometimes several times slower
    // here (the machine's memory, not dtask), and a median of 5 rides that out
    out.d_transfer_mb_per_s = await reps(REPS, async () => {
      const make = (_salt: number) => new Uint8Array(100 * 2 ** 20).fill(1);
      const src = client.with({ workers: [w1], allowOtherWorkers: false }).submit(make, ++salt);
      await wait([src]);
      const t = performance.now();
      const n = await client.with({ workers: [w2], allowOtherWorkers: false }).submit(
        (b: Uint8Array) => b.length,
        src,
      );
      const dt = performance.now() - t;
      src.release();
      if (n !== 100 * 2 ** 20) throw new Error(`read ${n} bytes`);
      return 100 / (dt / 1000);
    });
  }
  return out;
}

/** Workload e: start to first result, and close, each on a fresh cluster. */
async function runStartClose(queuing: boolean): Promise<Figures> {
  const start: number[] = [], close: number[] = [];
  for (let i = 0; i < Math.min(REPS, 3) + 1; i++) {
    const t0 = performance.now();
    const cluster = await LocalCluster.start(clusterShape(queuing));
    const client = await Client.connect(cluster);
    await client.submit((x: number) => x + 1, i);
    const t1 = performance.now();
    await client.close();
    await cluster.close();
    const t2 = performance.now();
    if (i > 0) {
      start.push((t1 - t0) / 1000);
      close.push((t2 - t1) / 1000);
    }
  }
  return {
    e_start_s: { median: median(start), samples: start },
    e_close_s: { median: median(close), samples: close },
  };
}

/** Runs of workload f (each on a fresh scheduler process; the figures are their medians). */
const F_REPS = 3;

/** Workload f, F_REPS times: medians of both figures. */
async function runWaiting(queuing: boolean): Promise<Figures> {
  const bytes: number[] = [], rate: number[] = [];
  for (let i = 0; i < F_REPS; i++) {
    const r = await runWaitingOnce(queuing);
    bytes.push(r.bytes);
    rate.push(r.rate);
  }
  return {
    f_bytes_per_waiting_task: { median: median(bytes), samples: bytes },
    f_submit_tasks_per_s: { median: median(rate), samples: rate },
  };
}

/** Workload f: a scheduler in its own process holds 100,000 tasks behind an unfinished one. */
async function runWaitingOnce(queuing: boolean): Promise<{ bytes: number; rate: number }> {
  const sched = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "-q",
      "--config",
      new URL("deno.json", root).pathname,
      new URL("scheduler/main.ts", root).href,
      "--port",
      "0",
      "--dashboard-address",
      "none",
      ...(queuing ? [] : ["--worker-saturation", "inf"]),
    ],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = sched.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/Scheduler at: (\S+)/.test(text)) {
    const r = await reader.read();
    if (r.done) throw new Error("scheduler did not start");
    text += r.value;
  }
  const address = /Scheduler at: (\S+)/.exec(text)![1];
  const rss = async () => {
    const status = await Deno.readTextFile(`/proc/${sched.pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
  };
  let figures = { bytes: NaN, rate: NaN };
  try {
    const client = await Client.connect(address);
    try {
      // No worker: the blocker never runs, so its dependents wait.
      const blocker = client.submit((x: number) => x, -1);
      const dependent = (b: number, i: number) => b + i;
      // Warm the scheduler's code paths on a small batch, then let it go (as the Dask side does).
      const warm = 1_000;
      client.release(
        client.map(
          dependent,
          Array(warm).fill(blocker),
          Array.from({ length: warm }, (_, i) => -1 - i),
        ),
      );
      await client.schedulerInfo(); // answered after it handled the submission and the release
      const before = await rss();
      const n = 100_000;
      const t = performance.now();
      const fs = client.map(
        dependent,
        Array(n).fill(blocker),
        Array.from({ length: n }, (_, i) => i),
      );
      // The scheduler has registered them when it answers a request sent after them.
      await client.schedulerInfo();
      const dt = performance.now() - t;
      const after = await rss();
      figures = { bytes: (after - before) / n, rate: n / (dt / 1000) };
      client.release(fs);
      blocker.release();
    } finally {
      await client.close();
    }
  } finally {
    sched.kill("SIGTERM");
    await sched.status;
    await reader.cancel();
  }
  return figures;
}

async function runDask(queuing: boolean): Promise<{ figures: Figures; version: string } | null> {
  const py = "/usr/bin/python3";
  const script = new URL("bench/dask_workloads.py", root).pathname;
  try {
    const out = await new Deno.Command(py, {
      args: [
        script,
        "--queuing",
        queuing ? "on" : "off",
        "--reps",
        String(REPS),
        "--reps-f",
        String(F_REPS),
        "--only",
        [...ONLY].join(","),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.code !== 0) {
      console.error(
        `Dask run failed (${out.code}): ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
      );
      return null;
    }
    const j = JSON.parse(new TextDecoder().decode(out.stdout));
    for (const [w, e] of Object.entries(j.errors ?? {})) console.error(`Dask's ${w} failed: ${e}`);
    return { figures: j.results, version: j.dask_version };
  } catch (e) {
    console.error(`Dask is not available (${(e as Error).message}); run bench/setup-dask.sh`);
    return null;
  }
}

/** What each figure is, and which way is better. */
const METRICS: [string, string, "higher" | "lower"][] = [
  ["a_throughput_tasks_per_s", "a. map 10,000 no-ops + gather (tasks/s)", "higher"],
  ["b_latency_us", "b. sequential submit->result (µs)", "lower"],
  ["c_tree_tasks_per_s", "c. 4,096-leaf tree reduction (tasks/s)", "higher"],
  ["d_transfer_mb_per_s", "d. 100 MB worker to worker (MB/s)", "higher"],
  ["e_start_s", "e. LocalCluster.start to first result (s)", "lower"],
  ["e_close_s", "e. close (s)", "lower"],
  ["f_bytes_per_waiting_task", "f. scheduler bytes per waiting task", "lower"],
  ["f_submit_tasks_per_s", "f. submitting 100,000 waiting tasks (tasks/s)", "higher"],
  ["g_spill_mb_per_s", "g. spill 1 GiB through a 256 MiB worker (MB/s)", "higher"],
  ["g_unspill_mb_per_s", "g. unspill it, oldest first (MB/s)", "higher"],
  ["h_dashboard_open_tasks_per_s", "h. a with /status open in Chromium (tasks/s)", "higher"],
  ["h_no_dashboard_tasks_per_s", "h. a beside it, no page open, same cluster (tasks/s)", "higher"],
  ["j_ws_latency_us", "j. b from a client over ws:// (µs)", "lower"],
  ["i_tcp_tasks_per_s", "i. a, client dialling tcp:// (tasks/s)", "higher"],
  ["i_tls_tasks_per_s", "i. a over TLS: tls:// everywhere (tasks/s)", "higher"],
  ["k_lock_pairs_per_s", "k. Lock acquire + release, one client (pairs/s)", "higher"],
  ["l_actor_calls_per_s", "l. 2,000 sequential actor calls from the client (calls/s)", "higher"],
  ["l_actor_concurrent_calls_per_s", "l. 2,000 concurrent actor calls (calls/s)", "higher"],
];

function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "—";
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toPrecision(3);
}

const report: Record<string, unknown> = { date: new Date().toISOString(), reps: REPS, runs: {} };
// workloads that do not depend on queuing run once, with it on: alone, they need no second pass
const ONCE_ONLY = new Set(["g", "i", "k", "l"]);
const modes = [...ONLY].every((w) => ONCE_ONLY.has(w)) ? [true] : [true, false];
for (const queuing of modes) {
  const mode = queuing ? "queuing on (defaults)" : "queuing off";
  console.error(`running dtask, ${mode}...`);
  const dtask: Figures = { ...(await runDtask(queuing)) };
  if (ONLY.has("e")) Object.assign(dtask, await runStartClose(queuing));
  if (ONLY.has("f")) Object.assign(dtask, await runWaiting(queuing));
  // spilling does not depend on queuing: once
  if (ONLY.has("g") && queuing) Object.assign(dtask, await runSpill(Math.min(REPS, 3)));
  if (ONLY.has("h")) Object.assign(dtask, await runDashboardCost(clusterShape(queuing), REPS));
  if (ONLY.has("j")) Object.assign(dtask, await runWsLatency(clusterShape(queuing), REPS));
  // TLS's cost does not depend on queuing: once
  if (ONLY.has("i") && queuing) Object.assign(dtask, await runTlsBeside(clusterShape(true), REPS));
  // locks do not depend on queuing either: once
  if (ONLY.has("k") && queuing) Object.assign(dtask, await runLockRate(clusterShape(true), REPS));
  // actor calls do not depend on queuing: once
  if (ONLY.has("l") && queuing) Object.assign(dtask, await runActorCalls(clusterShape(true), REPS));
  let dask: { figures: Figures; version: string } | null = null;
  if (!flags["no-dask"]) {
    console.error(`running Dask, ${mode}...`);
    dask = await runDask(queuing);
  }
  const rows = [];
  console.log(
    `\n${mode}${
      dask ? ` — Dask ${dask.version}` : " — Dask column missing (run bench/setup-dask.sh)"
    }`,
  );
  console.log("| workload | dtask | Dask | dtask/Dask |");
  console.log("|---|---:|---:|---:|");
  for (const [k, label, better] of METRICS) {
    const a = dtask[k]?.median, b = dask?.figures[k]?.median;
    if (a === undefined && b === undefined) continue;
    const ratio = a !== undefined && b !== undefined
      ? (better === "higher" ? a / b : b / a)
      : undefined;
    rows.push({ metric: k, dtask: a, dask: b, advantage: ratio });
    console.log(
      `| ${label} | ${fmt(a)} | ${fmt(b)} | ${
        ratio === undefined ? "—" : `${ratio.toFixed(1)}x`
      } |`,
    );
  }
  const hRatio = dtask.h_open_to_closed_ratio?.median;
  if (hRatio !== undefined) {
    console.log(
      `(h: with the dashboard open, a runs at ${
        (100 * hRatio).toFixed(0)
      } % of its rate with no page ` +
        `open, on the same cluster: median of the pairs)`,
    );
  }
  const tcp = dtask.i_tcp_tasks_per_s?.median, tls = dtask.i_tls_tasks_per_s?.median;
  if (tcp !== undefined && tls !== undefined) {
    console.log(`(i: over TLS, a runs at ${(100 * tls / tcp).toFixed(0)} % of its rate over TCP)`);
  }
  (report.runs as Record<string, unknown>)[queuing ? "queuing_on" : "queuing_off"] = {
    dtask,
    dask: dask?.figures ?? null,
    dask_version: dask?.version ?? null,
    rows,
  };
}
console.log("\n(dtask/Dask: how many times better dtask is; above 1 = dtask ahead)");
await Deno.mkdir(new URL("bench/results/", root), { recursive: true });
await Deno.writeTextFile(
  new URL("bench/results/latest.json", root),
  JSON.stringify(report, null, 2),
);
console.error("wrote bench/results/latest.json");
