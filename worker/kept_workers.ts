/**
 * The two kinds of worker a worker command keeps (see keeper.ts): a worker process under a
 * nanny, or a worker in the command's own process (`--no-nanny`).
 *
 * @module
 */
import { Nanny, type NannyOptions } from "./nanny.ts";
import { Worker, type WorkerOptions } from "./worker.ts";
import { EXIT_DONE, EXIT_RESTART } from "./exit_codes.ts";
import type { KeptWorker, WorkerEnd } from "./keeper.ts";

/** What a keeper gives each start: the death timeout left and its stop signal. */
export interface StartBudget {
  deathTimeout?: number;
  signal: AbortSignal;
}

/** Starts a worker process under a new nanny; aborting `signal` stops it, also mid-start. */
export async function startNanny(options: NannyOptions, budget: StartBudget): Promise<KeptWorker> {
  const nanny = new Nanny({ ...options, deathTimeout: budget.deathTimeout });
  // set before start(): a process that ends right after registering is reported at once
  const ended = new Promise<WorkerEnd>((resolve) => {
    nanny.onFailure = (e) => resolve({ lost: (e as Error)?.message ?? String(e) });
    nanny.onExit = () => resolve("done");
  });
  const onAbort = () => void nanny.stop();
  budget.signal.addEventListener("abort", onAbort);
  try {
    budget.signal.throwIfAborted();
    await nanny.start();
  } catch (e) {
    await nanny.stop();
    throw e;
  } finally {
    budget.signal.removeEventListener("abort", onAbort);
  }
  return { address: nanny.workerAddress, pid: nanny.pid, ended, stop: () => nanny.stop() };
}

/** Starts a worker in this process; aborting `signal` stops its start. */
export async function startInProcess(
  options: WorkerOptions,
  budget: StartBudget,
): Promise<KeptWorker> {
  const w = await Worker.start({ ...options, ...budget });
  const ended = w.closed.then((reason): WorkerEnd =>
    w.exitCode === EXIT_DONE
      ? "done"
      : w.exitCode === EXIT_RESTART
      ? "restart"
      : { lost: `closed (${reason})` }
  );
  return { address: w.address, ended, stop: () => w.close("stopped") };
}
