/**
 * A LocalCluster's workers: one supervised child per worker — a nanny and its worker process,
 * or a worker in this process — named "0", "1", … in order, restarted when they die (until the
 * restart intensity is spent), and how each worker process ended, for the scheduler to say.
 *
 * @module
 */
import { Supervisor } from "../actor/supervisor.ts";
import { Nanny } from "../worker/nanny.ts";
import { InprocessWorker } from "./supervised.ts";
import {
  type ClusterSettings,
  DEFAULT_MAX_RESTARTS,
  DEFAULT_RESTART_WINDOW,
} from "./local_options.ts";
import type { CheckedMemoryOptions } from "../worker/memory_config.ts";

/** How a pool starts its workers. */
export interface PoolOptions {
  settings: ClusterSettings;
  /** Bytes each worker may use (0: no limit). */
  memoryLimit: number;
  /** Each worker's memory thresholds and spill directory. */
  memory: CheckedMemoryOptions;
  /** The address its workers register with (tcp:// for processes, else inproc://). */
  scheduler: string;
  /** The pool gave up restarting worker `name`: `text` says why. */
  onGiveUp(name: string, text: string): void;
}

/** Exit descriptions kept for the scheduler to ask for (the oldest go first past this). */
const MAX_EXITS = 1000;

/** The workers of a LocalCluster, supervised one for one. */
export class WorkerPool {
  readonly #o: PoolOptions;
  readonly #supervisor: Supervisor;
  #seq = 0;
  #children: string[] = [];
  /** How each worker process ended (or will), by address: the scheduler names it. */
  #exits = new Map<string, Promise<string>>();

  constructor(o: PoolOptions) {
    this.#o = o;
    const maxRestarts = o.settings.maxRestarts ?? DEFAULT_MAX_RESTARTS;
    const window = o.settings.restartWindow ?? DEFAULT_RESTART_WINDOW;
    this.#supervisor = new Supervisor({
      maxRestarts,
      withinMs: window,
      onGiveUp: (name, e) =>
        o.onGiveUp(
          name,
          `gave up restarting worker ${JSON.stringify(name)}: it died more than ` +
            `${maxRestarts} times within ${window} ms (maxRestarts / restartWindow); last: ` +
            `${(e as Error)?.message ?? e}`,
        ),
    });
  }

  /** How the process of worker `address` ended (once: the entry is dropped). */
  takeExit(address: string): Promise<string> | undefined {
    const exit = this.#exits.get(address);
    this.#exits.delete(address);
    return exit;
  }

  /** The process id of worker `address`'s process, as its nanny knows it. */
  nannyPid(address: string): number | undefined {
    for (const name of this.#children) {
      const c = this.#supervisor.child(name);
      if (c instanceof Nanny && c.workerAddress === address) return c.pid;
    }
    return undefined;
  }

  /** Process ids of the worker processes (empty with processes: false). */
  get pids(): number[] {
    const pids: number[] = [];
    for (const name of this.#children) {
      const c = this.#supervisor.child(name);
      // running only: a retired worker or one its nanny gave up on has no process
      if (c instanceof Nanny && c.pid && this.#supervisor.status(name) === "running") {
        pids.push(c.pid);
      }
    }
    return pids;
  }

  /** Grows or shrinks to `n` workers; resolves once the new ones started. */
  async scale(n: number): Promise<void> {
    const o = this.#o.settings;
    // workers that ended for good (retired, or given up on) no longer count
    for (const name of [...this.#children]) {
      const st = this.#supervisor.status(name);
      if (st === "exited" || st === "failed" || st === "gave-up") {
        await this.#supervisor.stopChild(name);
        this.#children.splice(this.#children.indexOf(name), 1);
      }
    }
    while (this.#children.length > n) {
      const name = this.#children.pop()!;
      await this.#supervisor.stopChild(name);
    }
    const starting: Promise<unknown>[] = [];
    while (this.#children.length < n) {
      const name = `${this.#seq++}`;
      this.#children.push(name);
      const common = {
        scheduler: this.#o.scheduler,
        nthreads: o.threadsPerWorker,
        name,
        memoryLimit: this.#o.memoryLimit,
        ...this.#o.memory,
        host: o.host ?? "127.0.0.1",
        authToken: o.authToken,
        tls: o.tls,
        silenceLogs: o.silenceLogs,
        resources: o.resources,
        heartbeatInterval: o.heartbeatInterval,
        keepAlive: o.keepAlive === true,
      };
      const onStarted = (address: string, exited: Promise<string>) => {
        this.#exits.set(address, exited);
        // bounded: entries the scheduler never asked for (expected exits) go oldest first
        if (this.#exits.size > MAX_EXITS) this.#exits.delete(this.#exits.keys().next().value!);
      };
      // transient: a worker that exits cleanly (retired) is not restarted
      starting.push(this.#supervisor.supervise(
        name,
        () =>
          o.processes
            ? new Nanny({ ...common, config: o.config, onStarted })
            : new InprocessWorker({ ...common, inproc: true }),
        { restart: "transient" },
      ));
    }
    await Promise.all(starting);
  }

  /**
   * Retires the workers at `addresses` through `retireOnScheduler` (which moves their data to
   * peers and tells them to close for good), then lets go of their children: the pool shrinks
   * by those workers, not by the newest ones as `scale` would.
   */
  async retire(
    addresses: string[],
    retireOnScheduler: (addresses: string[]) => Promise<unknown>,
  ): Promise<void> {
    const names = addresses.map((a) => this.#nameOf(a)).filter((n) => n !== undefined);
    await retireOnScheduler(addresses);
    for (const name of names) {
      await this.#supervisor.stopChild(name);
      const i = this.#children.indexOf(name);
      if (i >= 0) this.#children.splice(i, 1);
    }
  }

  /** The child whose worker listens at `address`. */
  #nameOf(address: string): string | undefined {
    for (const name of this.#children) {
      const c = this.#supervisor.child(name);
      if (c instanceof Nanny && c.workerAddress === address) return name;
      if (c instanceof InprocessWorker && c.worker?.address === address) return name;
    }
    return undefined;
  }

  /** Stops every worker. */
  stop(): Promise<void> {
    return this.#supervisor.stop();
  }

  /** Drops the exits no one asked for (the cluster closed). */
  forgetExits(): void {
    this.#exits.clear();
  }
}
