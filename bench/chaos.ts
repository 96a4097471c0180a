/**
 * Chaos run: graphs of ~2,000 tasks (maps plus tree reductions, built with submit of futures) run
 * round after round on a LocalCluster with its default settings (allowedFailures 3; each nanny
 * restarts its worker at most 5 times within 60 s), while worker processes are SIGKILLed and,
 * once mid-run, the scheduler fails. Every result is checked.
 *
 * The kill schedule: every 300–800 ms a victim is picked among the workers whose nanny still has
 * restart budget (fewer than maxRestarts − 1 kills of that worker within the restart window; the
 * spare restart absorbs a worker that dies during its own start and clock skew between this
 * count and the supervisor's). Killing one worker faster than its nanny may restart it does not
 * happen in a real cluster without the nanny giving up, which is the cluster's correct answer to
 * a crash loop, not a recovery to measure; so with the defaults the kills thin out once every
 * worker has used its budget, as failures of a real fleet do. Kills held back are counted.
 *
 * The scheduler fails the way the supervision test makes it fail: a state transition no peer
 * asked for throws (here the work-stealing pass), so the scheduler fails as a whole, LocalCluster
 * starts a new one on the same addresses, the workers restart into it and the client reconnects
 * and resubmits what is pending.
 *
 * A task that was running on more workers than allowedFailures that were killed ends in
 * KilledWorker, as in Dask: expected under chaos and counted apart; a wrong value, or any other
 * error, is a failure. For each kill the run records a timeline (killed, removed by the scheduler
 * and why, the new process spawned, registered, its first task finished) to explain the slowest
 * recovery. `deno task chaos --duration=60` prints the report.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Client, type Future, KilledWorker, LocalCluster } from "../mod.ts";
import {
  after,
  ClusterRecorder,
  type Kill,
  type KillTimeline,
  quantile,
  type SchedulerKillTimeline,
  worstBreakdown,
} from "./chaos_timeline.ts";
import { schedulerState } from "../scheduler/internals.ts";

/** LocalCluster's defaults: restarts a nanny allows within the restart window (ms). */
const MAX_RESTARTS = 5;
const RESTART_WINDOW = 60_000;

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
  /** Fail the scheduler once, half-way through (default true). */
  killScheduler?: boolean;
  /** A round that takes longer than this (ms) counts as hung and ends the run. */
  roundTimeout?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What a chaos run saw. */
export interface ChaosReport {
  /** When the run started (ms since the epoch). */
  startedAt: number;
  kills: number;
  /** Kills due when no worker had restart budget left. */
  killsHeldBack: number;
  schedulerKills: number;
  rounds: number;
  tasks: number;
  /** Wrong values (must be 0). */
  wrong: number;
  /** Errors other than KilledWorker (must be 0), and the first few of them. */
  errors: number;
  errorSamples: string[];
  /** Distinct tasks that ended in KilledWorker (expected under chaos). */
  killedWorker: number;
  /** Nannies that gave up restarting their worker. */
  gaveUp: number;
  hung: boolean;
  /** ms from each kill to the first task finishing on the worker that replaced it. */
  recoveryMs: number[];
  timelines: KillTimeline[];
  scheduler: SchedulerKillTimeline[];
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
  });
  await using client = await Client.connect(cluster);
  const report: ChaosReport = {
    startedAt: Date.now(),
    kills: 0,
    killsHeldBack: 0,
    schedulerKills: 0,
    rounds: 0,
    tasks: 0,
    wrong: 0,
    errors: 0,
    errorSamples: [],
    killedWorker: 0,
    gaveUp: 0,
    hung: false,
    recoveryMs: [],
    timelines: [],
    scheduler: [],
  };
  const rec = new ClusterRecorder(cluster, client, o.nWorkers ?? 3);
  const killedWorkerKeys = new Set<string>();
  const kills: Kill[] = [];
  const start = report.startedAt;
  let stop = false;
  const killer = (async () => {
    while (!stop && Date.now() - start < o.duration) {
      await new Promise((r) => setTimeout(r, 300 + rand() * 500));
      if (stop || Date.now() - start >= o.duration) break;
      rec.poll();
      if ((o.killScheduler ?? true) && !rec.schedulerKill && Date.now() - start >= o.duration / 2) {
        const failing = cluster.scheduler;
        await rec.schedulerFailing();
        report.schedulerKills++;
        schedulerState(failing).balance = () => {
          throw new Error("chaos: a scheduler transition failed");
        };
        log("scheduler failing");
        continue;
      }
      const now = Date.now();
      const running = new Set(cluster.workerPids);
      const budget = (name: string) =>
        kills.filter((k) => k.name === name && k.at > now - RESTART_WINDOW).length <
          MAX_RESTARTS - 1;
      const up = cluster.workers.filter((w) => running.has(w.pid) && budget(w.name));
      if (up.length === 0) {
        report.killsHeldBack++;
        continue;
      }
      const victim = up[Math.floor(rand() * up.length)];
      try {
        Deno.kill(victim.pid, "SIGKILL");
        kills.push({ name: victim.name, address: victim.address, pid: victim.pid, at: Date.now() });
        report.kills++;
      } catch { /* it died on its own meanwhile */ }
    }
  })();
  try {
    const roundTimeout = o.roundTimeout ?? 120_000;
    // past the duration, rounds go on (for a while) until one ran right on the new scheduler
    const due = () =>
      Date.now() - start < o.duration || report.rounds === 0 ||
      (rec.schedulerKill?.recovered === false && Date.now() - start < o.duration + roundTimeout);
    while (due()) {
      const round = report.rounds;
      const roundStart = rec.streamFrom = Date.now();
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
      try {
        await client.wait([...ls, total], { timeout: roundTimeout });
      } catch {
        report.hung = true;
        log(`round ${round} hung`);
        break;
      }
      const before = report.wrong + report.errors;
      const check = async (f: Future<number>, expected: number) => {
        if (f.status === "finished") {
          if ((await f.result()) !== expected) report.wrong++;
          return;
        }
        const e = await f.exception();
        if (e instanceof KilledWorker) {
          killedWorkerKeys.add(e.message.match(/task '([^']+)'/)?.[1] ?? f.key);
        } else if (++report.errors <= 3) report.errorSamples.push(`${e?.name}: ${e?.message}`);
      };
      await Promise.all([
        ...ls.map((f, i) => check(f, i + 1)),
        check(total, (leaves * (leaves + 1)) / 2),
      ]);
      report.killedWorker = killedWorkerKeys.size;
      report.tasks += all.length;
      report.rounds++;
      await rec.collect().catch((e) => log(`reading the scheduler's records failed: ${e}`));
      rec.roundEnds.push(Date.now());
      const s = rec.schedulerKill;
      if (s?.replacedAt && roundStart >= s.replacedAt && report.wrong + report.errors === before) {
        s.recovered = true;
      }
      client.release(all);
      log(
        `round ${round}: ${all.length} tasks, ${report.kills} kills so far, ${report.wrong} ` +
          `wrong, ${report.killedWorker} killed-worker`,
      );
    }
  } finally {
    stop = true;
    await killer;
    rec.close();
  }
  report.gaveUp = rec.gaveUp;
  report.timelines = rec.timelines(kills);
  for (const t of report.timelines) {
    if (t.firstTaskAt !== undefined) report.recoveryMs.push(t.firstTaskAt - t.killedAt);
  }
  if (rec.schedulerKill) report.scheduler.push(rec.schedulerKill);
  return report;
}

/** The report as printed by `deno task chaos`. */
export function formatReport(r: ChaosReport): string[] {
  const lat = [...r.recoveryMs].sort((a, b) => a - b);
  const s = r.scheduler[0];
  const lines = [
    `kills: ${r.kills} (held back, no worker with restart budget: ${r.killsHeldBack})`,
    `scheduler kills: ${r.schedulerKills}`,
    `rounds: ${r.rounds}`,
    `tasks: ${r.tasks}`,
    `wrong: ${r.wrong}`,
    `errors other than KilledWorker: ${r.errors}`,
    ...r.errorSamples.map((e) => `  ${e}`),
    `killed-worker: ${r.killedWorker}`,
    `nannies that gave up: ${r.gaveUp}`,
    `hung: ${r.hung ? "yes" : "no"}`,
    `recovery, kill -> first task on the restarted worker (ms, n=${lat.length}): median ` +
    `${quantile(lat, 0.5).toFixed(0)}, p90 ${quantile(lat, 0.9).toFixed(0)}, max ` +
    `${(lat.at(-1) ?? NaN).toFixed(0)}`,
    ...worstBreakdown(r.timelines, r.startedAt),
  ];
  if (s) {
    lines.push(
      `scheduler failure at +${((s.failedAt - r.startedAt) / 1000).toFixed(1)} s: replaced ` +
        `${after(s.failedAt, s.replacedAt)}, all workers back ${
          after(s.failedAt, s.workersBackAt)
        }, ` +
        `first task ${after(s.failedAt, s.firstTaskAt)}, recovered: ${s.recovered ? "yes" : "no"}`,
    );
  }
  return lines;
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
  console.log(
    `chaos: ${values.workers} workers, LocalCluster defaults; SIGKILL every 300-800 ms (a worker ` +
      `whose nanny has restart budget), the scheduler fails once; ${values.duration} s`,
  );
  const r = await runChaos({
    duration: Number(values.duration) * 1000,
    nWorkers: Number(values.workers),
    seed: Number(values.seed),
    log: (l) => console.log(l),
  });
  for (const line of formatReport(r)) console.log(line);
  const ok = r.wrong === 0 && r.errors === 0 && !r.hung && r.scheduler.every((s) => s.recovered);
  Deno.exit(ok ? 0 : 1);
}
