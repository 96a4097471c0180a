/**
 * What a chaos run records to explain each recovery: for every SIGKILLed worker, when the
 * scheduler removed it and why (its remove-worker event), when the nanny's new process started
 * (/proc), when it registered (its add-worker event), and when its first task finished (the task
 * stream); for the scheduler failure, when the new scheduler took over, had every worker back
 * and finished its first task. Everything is read through the public API, as a user would.
 *
 * @module
 */
import type { Client, LocalCluster } from "../mod.ts";

/** What happened after one worker was SIGKILLed (times in ms since the epoch). */
export interface KillTimeline {
  worker: string;
  address: string;
  killedAt: number;
  /** The scheduler removed the worker (absent: the scheduler was replaced before it did). */
  removedAt?: number;
  /** How it noticed: "connection closed" or "worker TTL"; `reason` is the scheduler's words. */
  noticedBy?: string;
  reason?: string;
  /** The replacement process started (from /proc; absent elsewhere). */
  spawnedAt?: number;
  /** The replacement registered with the scheduler. */
  registeredAt?: number;
  /** The first task finished on the replacement. */
  firstTaskAt?: number;
  /** Rounds that ended between the kill and that first task. */
  roundBoundaries: number[];
}

/** The scheduler failure and its recovery. */
export interface SchedulerKillTimeline {
  failedAt: number;
  /** A new scheduler took over. */
  replacedAt?: number;
  /** Every worker registered with it. */
  workersBackAt?: number;
  /** The first task finished on it. */
  firstTaskAt?: number;
  /** A round submitted after the replacement finished, every value right. */
  recovered: boolean;
}

/** A SIGKILL the run sent. */
export interface Kill {
  name: string;
  address: string;
  pid: number;
  at: number;
}

/** When a process started (ms since the epoch), from /proc on Linux; undefined elsewhere. */
function processStartedAt(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]); // starttime
    const uptime = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
    const at = Date.now() - (uptime - ticks / 100) * 1000; // USER_HZ is 100 on Linux
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}

/** One worker process as the run saw it registered. */
interface Registration {
  address: string;
  name: string;
  pid: number;
  seenAt: number;
  spawnedAt?: number;
  firstTaskAt?: number;
}

/** Watches a LocalCluster (polling every 10 ms) and reads its scheduler's records. */
export class ClusterRecorder {
  /** When each round ended. */
  readonly roundEnds: number[] = [];
  /** Nannies that gave up restarting their worker (nanny-gave-up events). */
  gaveUp = 0;
  /** The scheduler failure, once `schedulerFailing` was called. */
  schedulerKill: SchedulerKillTimeline | null = null;
  /** Task-stream records are read from here on (the start of the current round). */
  streamFrom: number = Date.now();
  readonly #registrations: Registration[] = [];
  readonly #known = new Set<string>();
  /** Scheduler events by worker address: registrations, removals with their reason. */
  readonly #added = new Map<string, number[]>();
  readonly #removed = new Map<string, [number, string][]>();
  readonly #eventsSeen = new Set<string>();
  #failing: unknown = null;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    readonly cluster: LocalCluster,
    readonly client: Client,
    readonly nWorkers: number,
  ) {
    this.#timer = setInterval(() => this.poll(), 10);
  }

  /** Notes new worker processes and the scheduler's replacement. */
  poll(): void {
    const workers = this.cluster.workers;
    for (const w of workers) {
      const id = `${w.address}|${w.pid}`;
      if (this.#known.has(id)) continue;
      this.#known.add(id);
      this.#registrations.push({
        address: w.address,
        name: w.name,
        pid: w.pid,
        seenAt: Date.now(),
        spawnedAt: processStartedAt(w.pid),
      });
    }
    const s = this.schedulerKill;
    if (s && this.cluster.scheduler !== this.#failing) {
      s.replacedAt ??= Date.now();
      if (workers.length >= this.nWorkers) s.workersBackAt ??= Date.now();
    }
  }

  /** The scheduler is about to fail: its records are read first, as they go with it. */
  async schedulerFailing(): Promise<SchedulerKillTimeline> {
    await this.collect().catch(() => {});
    this.#failing = this.cluster.scheduler;
    return this.schedulerKill = { failedAt: Date.now(), recovered: false };
  }

  /** Reads the scheduler's events (worker added, removed, nanny gave up) and task stream. */
  async collect(): Promise<void> {
    const [events, stream] = await Promise.all([
      this.client.getEvents("all"),
      this.client.getTaskStream({ start: this.streamFrom }),
    ]);
    for (const [time, m] of events) {
      const e = m as { action?: string; worker?: string; reason?: string };
      const id = `${time}|${e.action}|${e.worker}`;
      if (this.#eventsSeen.has(id) || !e.worker) continue;
      this.#eventsSeen.add(id);
      if (e.action === "add-worker") push(this.#added, e.worker, time);
      if (e.action === "remove-worker") push(this.#removed, e.worker, [time, e.reason ?? ""]);
      if (e.action === "nanny-gave-up") this.gaveUp++;
    }
    const s = this.schedulerKill;
    for (const r of stream) {
      const stop = r.startstops[0]?.stop;
      if (stop === undefined) continue;
      // the latest registration at that address before the task finished (ports get reused)
      const reg = this.#registrations.findLast((g) =>
        g.address === r.worker && this.#registeredAt(g) - 100 <= stop
      );
      if (reg && stop < (reg.firstTaskAt ?? Infinity)) reg.firstTaskAt = stop;
      if (s?.replacedAt && stop >= s.failedAt && stop < (s.firstTaskAt ?? Infinity)) {
        s.firstTaskAt = stop;
      }
    }
  }

  /** When the scheduler registered it: its add-worker event, else when the poll saw it. */
  #registeredAt(g: Registration): number {
    return (this.#added.get(g.address) ?? []).findLast((t) => t <= g.seenAt) ?? g.seenAt;
  }

  /** Each kill's timeline: its removal, and the next process of the same worker name. */
  timelines(kills: Kill[]): KillTimeline[] {
    return kills.map((k) => {
      const t: KillTimeline = {
        worker: k.name,
        address: k.address,
        killedAt: k.at,
        roundBoundaries: [],
      };
      const removal = this.#removed.get(k.address)?.find(([at]) => at >= k.at);
      if (removal) {
        [t.removedAt, t.reason] = removal;
        t.noticedBy = t.reason.startsWith("worker-ttl") ? "worker TTL" : "connection closed";
      }
      const next = this.#registrations.find((g) =>
        g.name === k.name && g.pid !== k.pid && g.seenAt >= k.at
      );
      if (next) {
        t.spawnedAt = next.spawnedAt;
        t.registeredAt = this.#registeredAt(next);
        t.firstTaskAt = next.firstTaskAt;
      }
      if (t.firstTaskAt !== undefined) {
        t.roundBoundaries = this.roundEnds.filter((r) => r >= k.at && r <= t.firstTaskAt!);
      }
      return t;
    });
  }

  /** Stops polling. */
  close(): void {
    clearInterval(this.#timer);
  }
}

function push<T>(m: Map<string, T[]>, key: string, value: T): void {
  const list = m.get(key);
  if (list) list.push(value);
  else m.set(key, [value]);
}

/** The q-quantile of sorted numbers. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** "+123 ms" after `from`, or "?" when unknown. */
export function after(from: number, t: number | undefined): string {
  return t === undefined ? "?" : `+${(t - from).toFixed(0)} ms`;
}

/** The slowest recovery, phase by phase, and the phase that took the time. */
export function worstBreakdown(timelines: KillTimeline[], startedAt: number): string[] {
  const done = timelines.filter((t) => t.firstTaskAt !== undefined);
  if (done.length === 0) return ["worst recovery: none measured"];
  const took = (t: KillTimeline) => t.firstTaskAt! - t.killedAt;
  const w = done.reduce((a, b) => took(b) > took(a) ? b : a);
  const k = w.killedAt;
  const phases: [string, number | undefined, number | undefined][] = [
    ["the scheduler noticing", k, w.removedAt],
    ["the nanny starting a new process", k, w.spawnedAt],
    ["the new process starting and registering", w.spawnedAt ?? k, w.registeredAt],
    ["the new worker waiting for its first task", w.registeredAt, w.firstTaskAt],
  ];
  const [name, from, to] = phases
    .filter(([, a, b]) => a !== undefined && b !== undefined)
    .reduce((x, y) => (y[2]! - y[1]! > x[2]! - x[1]! ? y : x));
  const lines = [
    `worst recovery: ${took(w).toFixed(0)} ms, worker ${JSON.stringify(w.worker)} ` +
    `(${w.address}) killed at +${((k - startedAt) / 1000).toFixed(1)} s`,
    `  removed by the scheduler  ${after(k, w.removedAt)}` +
    (w.noticedBy ? ` (${w.noticedBy}: ${w.reason})` : " (not by this scheduler)"),
    `  new process spawned       ${after(k, w.spawnedAt)}`,
    `  new worker registered     ${after(k, w.registeredAt)}`,
    `  its first task finished   ${after(k, w.firstTaskAt)}`,
    `  longest phase: ${name} (${(to! - from!).toFixed(0)} ms)`,
  ];
  if (w.roundBoundaries.length > 0) {
    lines.push(
      `  rounds that ended meanwhile: ${w.roundBoundaries.length} (at ` +
        `${w.roundBoundaries.map((t) => after(k, t)).join(", ")})`,
    );
  }
  return lines;
}
