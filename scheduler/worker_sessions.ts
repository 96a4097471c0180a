/**
 * Worker sessions: each connected worker's connection, from its registration to its removal.
 * A worker leaves when its connection closes, whoever closed it (it died, it was retired or
 * restarted, it missed heartbeats for longer than the time-to-live); when its departure was
 * not asked for, the scheduler first waits briefly for how its process ended (a nanny says),
 * to name it in the removal reason and in KilledWorker. Waits end as stimuli posted back.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import { withTimeout } from "../comm/handshake.ts";
import type { Heartbeat, WorkerInfo } from "../comm/protocol.ts";
import type { ClusterListeners } from "./cluster_listeners.ts";
import type { ClusterCalls } from "./cluster_calls.ts";
import { Liveness } from "./liveness.ts";
import type { SchedulerState } from "./state.ts";
import type { ExitStatus, Post, WorkerClosed, WorkerMessage } from "./stimulus.ts";
import { feedMessages } from "../actor/mailbox.ts";
import { isMemoryExit } from "../core/memory_budget.ts";

/** How long the scheduler waits for a dead worker's exit status before removing it (ms). */
const EXIT_STATUS_WAIT = 500;

/** Exit statuses kept for workers nobody waits for (expected exits), oldest dropped first. */
const EXIT_REPORTS_KEPT = 1000;

/** What worker sessions need from the scheduler actor. */
export interface WorkerSessionsHost {
  readonly state: SchedulerState;
  readonly calls: ClusterCalls;
  /** The extensions told when a worker leaves. */
  readonly listeners: ClusterListeners;
  /** Modules every worker imports. */
  readonly preloads: readonly string[];
  /** Whether the scheduler is closing. */
  readonly closing: boolean;
  /** How a worker's process ended, when a nanny in this process knows. */
  exitStatusOf(address: string): Promise<string> | undefined;
  post: Post;
  /** Runs a state change no peer asked for; false when it threw (logged, the scheduler fails). */
  guard(what: string, f: () => void): boolean;
  /** The workers changed: waits on them are checked. */
  changed(): void;
}

/** The connected workers and their comings and goings. */
export class WorkerSessions {
  /** Live connections by worker address. */
  readonly conns: Map<string, Connection> = new Map();
  /** Heartbeat times per worker, checked against the time-to-live. */
  readonly liveness: Liveness = new Liveness();
  /** Workers whose departure was asked for (retire, restart): not suspicious, not waited on. */
  readonly #expected = new Map<string, string>();
  /** Exit statuses nannies elsewhere reported (`worker-exited`), or that are waited for. */
  readonly #exitReports = new Map<string, PromiseWithResolvers<string>>();
  /** Connections closing and exit statuses waited for, until they reach the actor. */
  readonly #departures = new Set<Promise<void>>();
  readonly #closing = Promise.withResolvers<undefined>();

  constructor(readonly host: WorkerSessionsHost) {}

  /** The live connection of the worker at `address`. */
  connection(address: string): Connection | undefined {
    return this.conns.get(address);
  }

  /** A worker's handshake succeeded: it registers, and its messages start flowing to the actor. */
  add(info: WorkerInfo, conn: Connection): void {
    const host = this.host, address = info.address;
    this.conns.set(address, conn);
    // before any task reaches it
    if (host.preloads.length) conn.send({ op: "preload", urls: [...host.preloads] });
    this.#track(
      conn.closed.then((reason) =>
        host.post({ kind: "worker-closed", worker: address, conn, reason })
      ),
    );
    if (!host.guard(`adding worker ${address}`, () => host.state.addWorker(info))) {
      conn.close("internal error while adding the worker");
      return;
    }
    this.liveness.seen(address, performance.now());
    host.calls.workerAdded(address);
    host.changed();
    const s: WorkerMessage = { kind: "worker-message", worker: address, msg: null };
    feedMessages(conn, s, host.post);
  }

  /** A worker's connection closed: it is removed, once its exit status is known if it died. */
  closed(s: WorkerClosed): void {
    const host = this.host, a = s.worker;
    if (this.conns.get(a) === s.conn) this.conns.delete(a);
    const expected = this.#expected.has(a) || host.closing;
    const reason = this.#expected.get(a) ?? s.reason;
    const ws = host.state.workers.get(a);
    const exit = expected || !ws ? undefined : host.exitStatusOf(a) ??
      (ws.info.nanny ? this.#exitReport(a).promise : undefined);
    if (exit === undefined) return this.remove(a, reason, expected);
    ws!.status = "closing"; // nothing is placed there meanwhile
    const wait = withTimeout(
      Promise.race([exit, this.#closing.promise]), // closing: no more waiting
      EXIT_STATUS_WAIT,
      "",
    ).catch(() => undefined);
    this.#track(wait.then((how) => host.post({ kind: "exit-status", worker: a, reason, how })));
  }

  /** Departures in progress: close awaits them. */
  #track(departure: Promise<void>): void {
    this.#departures.add(departure);
    departure.finally(() => this.#departures.delete(departure));
  }

  /** The wait for a dead worker's exit status ended: it is removed, named how it ended. */
  exitStatus(s: ExitStatus): void {
    this.#exitReports.delete(s.worker);
    // a new worker registered at that address meanwhile: it replaced this one's record
    if (this.conns.has(s.worker)) return;
    const reason = s.how ? `${s.reason}; its process ended: ${s.how}` : s.reason;
    if (s.how && isMemoryExit(s.how)) this.host.calls.workerRestartedForMemory(s.worker, s.how);
    this.remove(s.worker, reason, false);
  }

  /** A worker left: its tasks are rescheduled, its data recomputed or cancelled. */
  remove(address: string, reason: string, expected: boolean): void {
    const host = this.host;
    this.#expected.delete(address);
    this.liveness.forget(address);
    const known = host.state.workers.has(address);
    if (known) host.calls.workerRemoved(address, reason);
    host.guard(`removing worker ${address}`, () => {
      host.state.removeWorker(address, reason, expected);
      if (known) host.listeners.workerRemoved(address);
    });
    host.changed();
  }

  /** The departure of the worker at `address` was asked for (and why). */
  expect(address: string, why: string): void {
    this.#expected.set(address, why);
  }

  /** A worker's heartbeat: its memory figures, and a sign of life. */
  heartbeat(address: string, m: Heartbeat): void {
    const ws = this.host.state.workers.get(address);
    if (!ws) return;
    ws.memory = m.memory;
    ws.rss = m.rss;
    ws.spilled = m.spilled;
    ws.spillBytes = m.spillBytes;
    ws.spillSeconds = m.spillSeconds;
    ws.cpu = m.cpu ?? 0;
    this.liveness.seen(address, performance.now());
  }

  /**
   * A worker paused or runs again (`worker-status`): the state machine places accordingly, the
   * event log records it, and waits on the workers (a scatter with no running worker) look again.
   */
  status(address: string, status: "running" | "paused"): void {
    const host = this.host;
    if (!host.state.setWorkerStatus(address, status)) return;
    host.calls.workerStatusChanged(address, status === "running" ? "paused" : "running", status);
    host.changed();
  }

  /** A nanny (connected as a client) says how the process of the worker at `address` ended. */
  reportExit(address: string, how: string): void {
    this.#exitReport(address).resolve(how.slice(0, 200));
  }

  /** The exit status reported (or to be reported) for the worker at `address`. */
  #exitReport(address: string): PromiseWithResolvers<string> {
    let r = this.#exitReports.get(address);
    if (!r) {
      this.#exitReports.set(address, r = Promise.withResolvers<string>());
      if (this.#exitReports.size > EXIT_REPORTS_KEPT) {
        this.#exitReports.delete(this.#exitReports.keys().next().value!);
      }
    }
    return r;
  }

  /** Workers silent for longer than `ttl` ms are dropped (Dask's check_worker_ttl). */
  checkTtl(ttl: number): void {
    const expired = this.liveness.expired(performance.now(), ttl);
    if (expired.length === 0) return;
    this.host.calls.log("all", { action: "worker-ttl-timed-out", workers: expired, ttl });
    for (const a of expired) {
      const reason = `worker-ttl-timed-out: no heartbeat for more than ${ttl} ms`;
      this.liveness.forget(a);
      const conn = this.conns.get(a);
      if (conn) conn.close(reason); // its worker-closed stimulus removes it
      else this.remove(a, reason, false);
    }
  }

  /** The scheduler is closing: exit statuses are no longer waited for. */
  closing(): void {
    this.#closing.resolve(undefined);
  }

  /** Resolves once every departure in progress reached the actor. */
  async settled(): Promise<void> {
    while (this.#departures.size) await Promise.all(this.#departures);
  }
}
