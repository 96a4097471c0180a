/**
 * What an open /status page costs in CPU time per task, measured from /proc (Linux only): a
 * LocalCluster (2 worker processes × 1 thread, as workload h) runs batches of 10,000 no-op tasks
 * with no page open, then with /status open in headless Chromium, alternately, and this reports
 * per task the CPU time (user + system) of every Chromium process and of the cluster's processes
 * (this one and its workers). CPU time per task, unlike throughput, hardly moves with other load
 * on the machine; medians over the rounds smooth the rest. With `--threads` it also names the
 * Chromium threads that used the most; with `--profile`, the page's functions that did (a V8
 * CPU profile of the last round's page: "(program)" is the renderer's own work, such as
 * painting and the socket).
 *
 *   deno run -A bench/dashboard_cpu_probe.ts [--rounds 5] [--batches 5] [--queuing on|off]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Browser, chromium } from "playwright-core";
import { Client, LocalCluster } from "../mod.ts";
import { DashboardFeed } from "../dashboard/feed.ts";
import { median } from "./stats.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    batches: { type: "string", default: "5" },
    tasks: { type: "string", default: "10000" },
    queuing: { type: "string", default: "on" },
    threads: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    trace: { type: "string" },
  },
});
const ROUNDS = Number(flags.rounds), BATCHES = Number(flags.batches), TASKS = Number(flags.tasks);
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** CPU ticks of one thread or process, with what it is. */
interface Usage {
  ticks: number;
  /** The process's Chromium `--type` ("browser" for the main one), "scheduler" or "worker". */
  role: string;
  thread: string;
}

function readStat(path: string): { ppid: number; comm: string; ticks: number } | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return null; // gone meanwhile
  }
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const f = text.slice(close + 2).split(" "); // f[0] is field 3 (state)
  return { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) };
}

function roleOf(pid: number): string {
  try {
    // Chromium rewrites its processes' titles: one string, arguments separated by spaces
    const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split(/[\0 ]/);
    if (!argv[0].includes("chrom")) return pid === Deno.pid ? "scheduler" : "worker";
    return argv.find((a) => a.startsWith("--type="))?.slice(7) ?? "browser";
  } catch {
    return "gone";
  }
}

/** Every thread of this process and its descendants, by "pid/tid". */
function sample(): Map<string, Usage> {
  const parent = new Map<number, number>();
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(`/proc/${pid}/stat`);
    if (s) parent.set(pid, s.ppid);
  }
  const tree = new Set([Deno.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!tree.has(pid) && tree.has(ppid)) tree.add(pid), grew = true;
    }
  }
  const out = new Map<string, Usage>();
  for (const pid of tree) {
    const role = roleOf(pid);
    let tasks: Iterable<Deno.DirEntry> = [];
    try {
      tasks = [...Deno.readDirSync(`/proc/${pid}/task`)];
    } catch { /* gone */ }
    for (const t of tasks) {
      const s = readStat(`/proc/${pid}/task/${t.name}/stat`);
      if (s) out.set(`${pid}/${t.name}`, { ticks: s.ticks, role, thread: s.comm });
    }
  }
  return out;
}

/** CPU µs used between two samples, per group that `key` names. */
function used(
  before: Map<string, Usage>,
  after: Map<string, Usage>,
  key: (u: Usage) => string,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, u] of after) {
    const d = (u.ticks - (before.get(id)?.ticks ?? 0)) * TICK_US;
    out.set(key(u), (out.get(key(u)) ?? 0) + d);
  }
  return out;
}

const CLUSTER_ROLES = ["scheduler", "worker"];
const group = (u: Usage) => CLUSTER_ROLES.includes(u.role) ? "cluster" : "chromium";

/** Time the scheduler spends in the feed's ticks (building and sending its messages), in ms. */
const feedTime = { ms: 0 };
const tick = DashboardFeed.prototype.tick;
DashboardFeed.prototype.tick = function (this: DashboardFeed, now?: number) {
  const t = performance.now();
  try {
    return tick.call(this, now);
  } finally {
    feedTime.ms += performance.now() - t;
  }
};

/** One measurement: BATCHES × TASKS no-op tasks; CPU µs per task by group, role and thread. */
async function measure(client: Client, salt: { n: number }) {
  const noop = (x: number) => x;
  const before = sample();
  const feedBefore = feedTime.ms;
  const t = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    const s = ++salt.n * TASKS;
    const fs = client.map(noop, Array.from({ length: TASKS }, (_, i) => s + i));
    await client.gather(fs);
    client.release(fs);
  }
  const wall = performance.now() - t;
  const feedUs = (feedTime.ms - feedBefore) * 1000;
  const after = sample();
  const n = BATCHES * TASKS;
  const per = (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, v / n]));
  return {
    groups: per(used(before, after, group)),
    roles: per(used(before, after, (u) => u.role)),
    threads: per(used(before, after, (u) => `${u.role}:${u.thread}`)),
    tasksPerS: n / (wall / 1000),
    feed: feedUs / n,
    /** Chromium's CPU time per second of the measurement (ms/s: 1000 is a whole core). */
    chromiumPerS: (used(before, after, group).get("chromium") ?? 0) / wall,
  };
}

type Measurement = Awaited<ReturnType<typeof measure>>;

function summary(label: string, ms: Measurement[]) {
  const med = (f: (m: Measurement) => number) => median(ms.map(f)).toFixed(2);
  const g = (k: string) => (m: Measurement) => m.groups.get(k) ?? 0;
  console.log(
    `${label}: chromium ${med(g("chromium"))} µs/task, cluster ${med(g("cluster"))} µs/task, ` +
      `${med((m) => m.tasksPerS)} tasks/s, chromium ${
        med((m) => m.chromiumPerS / 10)
      } % of a core  (chromium samples ${
        ms.map((m) => g("chromium")(m).toFixed(2)).join(" ")
      }; cluster ${ms.map((m) => g("cluster")(m).toFixed(2)).join(" ")})`,
  );
  console.log(`  the feed's ticks (in the scheduler): ${med((m) => m.feed)} µs/task`);
  const roles = new Set(ms.flatMap((m) => [...m.roles.keys()]));
  for (const r of [...roles].sort()) {
    console.log(`  ${r}: ${med((m) => m.roles.get(r) ?? 0)} µs/task`);
  }
  if (!flags.threads) return;
  const threads = new Set(ms.flatMap((m) => [...m.threads.keys()]));
  const rows = [...threads].map((k) => [k, median(ms.map((m) => m.threads.get(k) ?? 0))] as const)
    .filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows) console.log(`    ${k}: ${v.toFixed(2)} µs/task`);
}

/** What `--trace <file>` records of the last round's page (a Chromium trace, JSON). */
const TRACE_CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "blink",
  "cc",
  "viz",
  "gpu",
  "toplevel",
  "v8",
  "benchmark",
];

/** The parts of a V8 CPU profile (CDP Profiler.stop) read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function of a V8 CPU profile, in µs per task, the largest first. */
function printProfile(p: CpuProfile, tasks: number) {
  const names = new Map(p.nodes.map((n) => {
    const f = n.callFrame, file = f.url.slice(f.url.lastIndexOf("/") + 1);
    return [n.id, `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`];
  }));
  const self = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const name = names.get(p.samples[i])!;
    self.set(name, (self.get(name) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  console.log("the page's functions by self time (one round):");
  const rows = [...self].filter(([k]) => k !== "(idle) :0").sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows.slice(0, 25)) {
    console.log(`    ${(v / tasks).toFixed(3)} µs/task  ${k}`);
  }
}

async function main() {
  const executablePath = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: true,
    host: "127.0.0.1",
    dashboardAddress: "127.0.0.1:0",
    silenceLogs: true,
    workerSaturation: flags.queuing === "on" ? undefined : Infinity,
  });
  await using client = await Client.connect(cluster);
  const browser: Browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  const salt = { n: 0 };
  const without: Measurement[] = [], withPage: Measurement[] = [];
  let profiled: CpuProfile | null = null;
  try {
    await measure(client, salt); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      without.push(await measure(client, salt));
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(cluster.dashboardLink!);
      await page.waitForSelector('[data-testid="connection"][data-state="open"]');
      await measure(client, salt); // the page's warm-up
      const cdp = flags.profile && round === ROUNDS - 1
        ? await page.context().newCDPSession(page)
        : null;
      if (cdp) {
        await cdp.send("Profiler.enable");
        await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
        await cdp.send("Profiler.start");
      }
      const tracing = flags.trace && round === ROUNDS - 1;
      if (tracing) await browser.startTracing(page, { categories: TRACE_CATEGORIES });
      withPage.push(await measure(client, salt));
      if (tracing) await Deno.writeFile(flags.trace!, await browser.stopTracing());
      if (cdp) profiled = (await cdp.send("Profiler.stop")).profile as unknown as CpuProfile;
      await page.close();
      console.error(`round ${round + 1}/${ROUNDS} done`);
    }
  } finally {
    await browser.close();
  }
  console.log(`queuing ${flags.queuing}, ${ROUNDS} rounds of ${BATCHES} × ${TASKS} tasks`);
  summary("no page", without);
  summary("/status open", withPage);
  if (profiled) printProfile(profiled, BATCHES * TASKS);
}

await main();
