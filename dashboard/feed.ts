/**
 * The scheduler's side of the live dashboard (feed_protocol.ts): the connected pages'
 * sockets, a cursor into the task stream and the progress last sent per prefix. The scheduler
 * actor calls `tick` on its dashboard timer, which runs only while a page is connected: each
 * tick sends new pages a snapshot and, when anything changed, one update to the others. A tick
 * costs O(new stream entries + prefixes + workers), never O(tasks): the per-prefix counts are
 * kept by the state machine as tasks move (scheduler/prefix_tallies.ts). Also keeps the
 * scheduler's CPU, memory and event-loop lag, sampled every second, for the system page.
 *
 * @module
 */
import type {
  FeedIdentity,
  FeedProgress,
  FeedSnapshot,
  FeedStream,
  FeedUpdate,
  FeedWorker,
} from "./feed_protocol.ts";
import { SystemSamples } from "./system_samples.ts";

/** Task-stream entries a snapshot carries at most (the newest). */
export const SNAPSHOT_STREAM_ENTRIES = 5000;
/** A page whose socket buffers more than this many bytes unsent fell behind: it is closed. */
export const FEED_BUFFER_LIMIT = 4 * 2 ** 20;
/** The close code a page that fell behind gets (it reconnects). */
export const FELL_BEHIND = 4008;

/** The tasks of one prefix by state, as the state machine tallies them. */
export interface PrefixCounts {
  readonly released: number;
  readonly waiting: number;
  readonly "no-worker": number;
  readonly queued: number;
  readonly processing: number;
  readonly memory: number;
  readonly erred: number;
  /** Released tasks that had finished. */
  readonly doneReleased: number;
  /** Forgotten tasks that had finished. */
  readonly doneForgotten: number;
  /** Changes on every change of the counts above. */
  readonly version: number;
}

/** The finished-task ring the feed reads (scheduler/event_log.ts TaskStream). */
export interface StreamRing {
  readonly keys: readonly string[];
  /** Each key's prefix (`keyPrefix`). */
  readonly prefixes: readonly string[];
  readonly workers: readonly string[];
  readonly starts: Float64Array;
  readonly stops: Float64Array;
  /** 0 compute, 1 erred, 2 transfer, 3 disk-write, 4 disk-read (`STREAM_KINDS`). */
  readonly kinds: Uint8Array;
  readonly threads: Uint16Array;
  readonly pushed: number;
  after(cursor: number, limit?: number): number[];
}

/** What the feed reads from the scheduler, inside the actor's tick (read-only). */
export interface FeedSource {
  readonly identity: FeedIdentity;
  /** Tasks by state. */
  counts(): Readonly<Record<string, number>>;
  clients(): number;
  workers(): FeedWorker[];
  readonly prefixes: ReadonlyMap<string, PrefixCounts>;
  readonly stream: StreamRing;
}

/** The part of a WebSocket the feed uses. */
export interface FeedSocket {
  readonly bufferedAmount: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** A prefix's counts as the page's progress bar shows them. */
export function progressOf(t: PrefixCounts): FeedProgress {
  return {
    // released tasks that never finished are still to do
    waiting: t.waiting + t["no-worker"] + t.released - t.doneReleased,
    queued: t.queued,
    processing: t.processing,
    memory: t.memory,
    erred: t.erred,
    released: t.doneReleased + t.doneForgotten,
  };
}

/** Rounds a time relative to a message's origin to the microsecond (a short JSON number). */
const relative = (time: number, origin: number) => Math.round((time - origin) * 1000) / 1000;

/**
 * Entries of one worker thread, prefix and kind that follow each other by less than this (ms)
 * travel as one, a run from the first one's start to the last one's stop: far less than a pixel
 * of the page's task stream (10 s over a thousand pixels or so), and thousands of short tasks a
 * second on a thread then cost the feed and the page a few numbers per message, not per task.
 */
export const STREAM_MERGE_GAP = 1;

/**
 * The task-stream entries at `indexes` of `ring`, as the page's columns, their times relative
 * to `origin` (ms since the epoch). Back-to-back entries of one thread, prefix and kind are
 * merged into runs (`STREAM_MERGE_GAP`).
 */
export function streamColumns(
  ring: StreamRing,
  indexes: readonly number[],
  origin: number,
): FeedStream {
  const s: FeedStream = {
    origin,
    workers: [],
    prefixes: [],
    worker: [],
    thread: [],
    prefix: [],
    start: [],
    stop: [],
    kind: [],
  };
  const workerIds = new Map<string, number>(), prefixIds = new Map<string, number>();
  const starts: number[] = [], stops: number[] = [];
  /** The latest run of each worker's threads: lastRun[worker][thread], an index of `s`. */
  const lastRun: number[][] = [];
  for (const i of indexes) {
    const w = ring.workers[i], p = ring.prefixes[i];
    let wi = workerIds.get(w);
    if (wi === undefined) {
      workerIds.set(w, wi = s.workers.push(w) - 1);
      lastRun.push([]);
    }
    let pi = prefixIds.get(p);
    if (pi === undefined) prefixIds.set(p, pi = s.prefixes.push(p) - 1);
    const thread = ring.threads[i], kind = ring.kinds[i];
    const start = ring.starts[i], stop = ring.stops[i];
    const run = lastRun[wi][thread];
    if (
      run !== undefined && s.prefix[run] === pi && s.kind[run] === kind &&
      start <= stops[run] + STREAM_MERGE_GAP && stop >= starts[run] - STREAM_MERGE_GAP
    ) {
      if (start < starts[run]) starts[run] = start;
      if (stop > stops[run]) stops[run] = stop;
      continue;
    }
    lastRun[wi][thread] = s.worker.push(wi) - 1;
    s.thread.push(thread);
    s.prefix.push(pi);
    s.kind.push(kind);
    starts.push(start);
    stops.push(stop);
  }
  s.start = starts.map((t) => relative(t, origin));
  s.stop = stops.map((t) => relative(t, origin));
  return s;
}

/** The dashboard's pages and what they were last sent. */
export class DashboardFeed {
  /** The scheduler's CPU, memory and event-loop lag over the last minutes. */
  readonly system: SystemSamples = new SystemSamples();
  readonly #source: FeedSource;
  readonly #wake: () => void;
  readonly #pages = new Set<FeedSocket>();
  readonly #fresh = new Set<FeedSocket>();
  #cursor: number;
  readonly #sentVersions = new Map<string, number>();
  #sentCounts = "";
  #sentWorkers = "";
  #sentClients = -1;

  /** `wake` starts the dashboard timer (the actor stops it when `tick` says so). */
  constructor(source: FeedSource, wake: () => void) {
    this.#source = source;
    this.#wake = wake;
    this.#cursor = source.stream.pushed;
  }

  /** Connected pages (those still waiting for their snapshot included). */
  get pages(): number {
    return this.#pages.size + this.#fresh.size;
  }

  /** A page's socket opened: it gets a snapshot on the next tick. */
  connect(socket: FeedSocket): void {
    this.#fresh.add(socket);
    this.#wake();
  }

  /** A page's socket closed. */
  disconnect(socket: FeedSocket): void {
    this.#pages.delete(socket);
    this.#fresh.delete(socket);
  }

  /**
   * The dashboard timer's tick: snapshots for new pages, an update for the others when
   * anything changed. Returns whether any page is left (false: the timer may stop).
   */
  tick(now = Date.now()): boolean {
    const update = this.#update(now);
    if (update && this.#pages.size) {
      const text = JSON.stringify(update);
      for (const page of this.#pages) this.#send(page, text);
    }
    if (this.#fresh.size) {
      const text = JSON.stringify(this.snapshot(now));
      for (const page of this.#fresh) {
        this.#fresh.delete(page);
        this.#pages.add(page);
        this.#send(page, text);
      }
    }
    return this.pages > 0;
  }

  /** Everything a page needs to draw, now. */
  snapshot(now = Date.now()): FeedSnapshot {
    const src = this.#source;
    const progress: Record<string, FeedProgress> = {};
    for (const [prefix, t] of src.prefixes) progress[prefix] = progressOf(t);
    return {
      type: "snapshot",
      identity: src.identity,
      time: now,
      counts: { ...src.counts() },
      clients: src.clients(),
      workers: src.workers(),
      progress,
      stream: streamColumns(src.stream, src.stream.after(0, SNAPSHOT_STREAM_ENTRIES), now),
    };
  }

  /** Closes every page's socket (the scheduler is closing). */
  close(): void {
    for (const page of [...this.#pages, ...this.#fresh]) {
      this.disconnect(page);
      try {
        page.close(1001, "the scheduler is closing");
      } catch { /* already closing */ }
    }
  }

  /** What changed since the previous tick, or null when nothing did; marks it all as sent. */
  #update(now: number): FeedUpdate | null {
    const src = this.#source;
    let changed = false;
    const stream = src.stream;
    // with no page to update, only the marks move: new pages get a snapshot
    const indexes = this.#pages.size ? stream.after(this.#cursor) : [];
    this.#cursor = stream.pushed;
    if (indexes.length) changed = true;
    const counts = { ...src.counts() };
    const countsText = JSON.stringify(counts);
    if (countsText !== this.#sentCounts) changed = true;
    this.#sentCounts = countsText;
    const clients = src.clients();
    if (clients !== this.#sentClients) changed = true;
    this.#sentClients = clients;
    const workers = src.workers();
    const workersText = JSON.stringify(workers, (k, v) => k === "lastSeen" ? undefined : v);
    if (workersText !== this.#sentWorkers) changed = true;
    this.#sentWorkers = workersText;
    const progress: Record<string, FeedProgress> = {};
    const sent = this.#sentVersions;
    for (const [prefix, t] of src.prefixes) {
      if (sent.get(prefix) === t.version) continue;
      sent.set(prefix, t.version);
      progress[prefix] = progressOf(t);
      changed = true;
    }
    if (sent.size > src.prefixes.size) {
      for (const prefix of sent.keys()) if (!src.prefixes.has(prefix)) sent.delete(prefix);
    }
    if (!changed) return null;
    return {
      type: "update",
      time: now,
      counts,
      clients,
      workers,
      progress,
      stream: streamColumns(stream, indexes, now),
    };
  }

  #send(page: FeedSocket, text: string): void {
    if (page.bufferedAmount > FEED_BUFFER_LIMIT) {
      this.disconnect(page);
      try {
        page.close(FELL_BEHIND, "the page fell behind; reconnect");
      } catch { /* already closing */ }
      return;
    }
    try {
      page.send(text);
    } catch {
      this.disconnect(page); // it closed meanwhile: its close event follows
    }
  }
}
