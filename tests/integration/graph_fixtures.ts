/** A scheduler and real TCP workers in this process, whose scheduler state tests can read. */
import { Scheduler, Worker } from "../../mod.ts";

/** A scheduler plus `nthreads.length` workers (one per entry, with that many threads). */
export interface MiniCluster {
  s: Scheduler;
  workers: Worker[];
  /** Starts one more worker. */
  addWorker(nthreads?: number, name?: string): Promise<Worker>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a scheduler (no dashboard) and one worker per entry of `nthreads`. */
export async function miniCluster(nthreads: number[] = [1, 2]): Promise<MiniCluster> {
  const s = await Scheduler.start({ port: 0, dashboardAddress: null, log: () => {} });
  const workers: Worker[] = [];
  const addWorker = async (n = 1, name?: string) => {
    const w = await Worker.start({
      scheduler: s.address,
      nthreads: n,
      name,
      silenceLogs: true,
      log: () => {},
    });
    workers.push(w);
    return w;
  };
  try {
    for (const n of nthreads) await addWorker(n);
  } catch (e) {
    for (const w of workers) await w.close();
    await s.close();
    throw e;
  }
  return {
    s,
    workers,
    addWorker,
    async [Symbol.asyncDispose]() {
      for (const w of workers) await w.close();
      await s.close();
    },
  };
}

/** A gate tasks can wait on (a file that appears when opened), so tests need no sleeps. */
export interface Gate {
  /** The file tasks wait for. */
  path: string;
  /** Lets the waiting tasks go on. */
  open(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Makes a closed gate in a fresh temp directory (removed on dispose). */
export async function gate(): Promise<Gate> {
  const dir = await Deno.makeTempDir({ prefix: "dtask-gate-" });
  const path = `${dir}/open`;
  return {
    path,
    open: () => Deno.writeTextFile(path, "open"),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A task function: waits until the gate at `path` is open, then returns `value`. */
export async function blockUntil<T>(path: string, value: T): Promise<T> {
  for (;;) {
    try {
      await Deno.stat(path);
      return value;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
