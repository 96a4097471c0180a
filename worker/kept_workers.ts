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
import { stoppedLine } from "./stop_reason.ts";

/** What a keeper gives each start: the death timeout left and its stop signal. */
export interface StartBudget {
  deathTimeout?: number;
  signal: AbortSignal;
}

/** How a worker command starts a nanny. */
export interface KeptNannyOptions extends NannyOptions {
  /**
   * Called when the nanny started its worker process again by itself (`client.restart()`), with
   * the new process's address and pid. (Needs `onStarted`: both hear of each start.)
   */
  onRenewed?: (address: string, pid: number) => void;
}

/** Starts a worker process under a new nanny; aborting `signal` stops it, also mid-start. */
export async function startNanny(
  options: KeptNannyOptions,
  budget: StartBudget,
): Promise<KeptWorker> {
  const { onRenewed, onStarted, ...rest } = options;
  let starts = 0;
  const nanny: Nanny = new Nanny({
    ...rest,
    deathTimeout: budget.deathTimeout,
    // each process the nanny starts registers here: the first is this start, later ones renewals
    ...(onStarted && {
      onStarted: (address: string, exited: Promise<string>) => {
        onStarted(address, exited);
        if (starts++ > 0) onRenewed?.(address, nanny.pid);
      },
    }),
  });
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

/**
 * Starts a worker in this process; aborting `signal` stops its start. When the scheduler ends it
 * (closed, retired), `say` gets the line that says so.
 */
export async function startInProcess(
  options: WorkerOptions,
  budget: StartBudget,
  say: (line: string) => void = (l) => console.error(l),
): Promise<KeptWorker> {
  const w = await Worker.start({ ...options, ...budget });
  const stopped = "stopped"; // its keeper's reason: no line
  w.closed.then((reason) => {
    const line = reason === stopped ? null : stoppedLine(w.name, w.address, reason);
    if (line) say(line);
  });
  const ended = w.closed.then((reason): WorkerEnd =>
    w.exitCode === EXIT_DONE
      ? "done"
      : w.exitCode === EXIT_RESTART
      ? "restart"
      : { lost: `closed (${reason})` }
  );
  return { address: w.address, ended, stop: () => w.close(stopped) };
}
