/**
 * A port of Dask's `gen_cluster(client=True)` for the dask_*_test.ts scenario ports: a
 * scheduler in this process plus workers a (1 thread) and b (2 threads), all through the public
 * API (`Scheduler.start`, `Worker.start`, `Client.connect`); a test looks at the scheduler's
 * tasks with `schedulerState(s).tasks` (scheduler/internals.ts) as Dask's tests look at
 * `s.tasks`. Closing it closes clients, workers and the scheduler, in that order.
 */
import {
  Client,
  getClient,
  Scheduler,
  type SchedulerOptions,
  Worker,
  type WorkerOptions,
} from "../../mod.ts";

/** A running gen_cluster: `s`, workers `a` and `b` (and more), client `c`. */
export interface GenCluster {
  s: Scheduler;
  a: Worker;
  b: Worker;
  workers: Worker[];
  c: Client;
  /** Starts another worker on this scheduler (closed with the cluster). */
  addWorker(options?: Partial<WorkerOptions>): Promise<Worker>;
  /** Another client on this scheduler (closed with the cluster). */
  client(): Promise<Client>;
  [Symbol.asyncDispose](): Promise<void>;
}

const quiet = () => {};

/** Scheduler + workers with `nthreads` threads each (default [1, 2]) + one client. */
export async function genCluster(
  options: {
    nthreads?: number[];
    config?: SchedulerOptions["config"];
    worker?: Partial<WorkerOptions>;
  } = {},
): Promise<GenCluster> {
  const s = await Scheduler.start({ dashboardAddress: null, log: quiet, config: options.config });
  const workers: Worker[] = [];
  const clients: Client[] = [];
  const addWorker = async (o: Partial<WorkerOptions> = {}) => {
    const w = await Worker.start({
      scheduler: s.inprocAddress,
      inproc: true,
      nthreads: 1,
      silenceLogs: true,
      log: quiet,
      ...options.worker,
      ...o,
    });
    workers.push(w);
    return w;
  };
  const client = async () => {
    const c = await Client.connect(s.inprocAddress);
    clients.push(c);
    return c;
  };
  const close = async () => {
    for (const c of clients) await c.close();
    await Promise.all(workers.map((w) => w.close()));
    await s.close();
  };
  try {
    for (const n of options.nthreads ?? [1, 2]) await addWorker({ nthreads: n });
    const c = await client();
    return {
      s,
      a: workers[0],
      b: workers[1],
      workers,
      c,
      addWorker,
      client,
      [Symbol.asyncDispose]: close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * A task that blocks until the dataset `name` is published (then returns its value): the
 * timing-free way to keep a task running. Publish with `c.publishDataset(name, value)`.
 */
export async function blockOn(name: string): Promise<unknown> {
  return await getClient().getDataset(name, { timeout: 120_000 });
}
