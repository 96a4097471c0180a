/**
 * How a worker process killed by its nanny for memory (past `memoryTerminate`) is described: the
 * nanny's log line (Dask's words), the description of its exit that the scheduler quotes in the
 * removal reason and in KilledWorker, and the test for such an exit. Pure.
 *
 * @module
 */

const MIB = 2 ** 20;

/** The terminate fraction as Dask prints it: 0.95 → "95%". */
export function budgetPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** The nanny's warning as it restarts a worker process for memory (Dask's words). */
export function memoryRestartLine(address: string, pid: number, fraction: number): string {
  return `Worker ${address} (pid=${pid}) exceeded ${budgetPercent(fraction)} memory budget. ` +
    "Restarting...";
}

/**
 * How a worker process killed for memory ended: "exceeded 95% memory budget (RSS 291 MiB of
 * 300 MiB); killed by its nanny". `rss` is what it held when the nanny decided; `limit` its
 * `memoryLimit` (bytes).
 */
export function memoryExit(fraction: number, rss: number, limit: number): string {
  const mib = (bytes: number) => `${Math.round(bytes / MIB)} MiB`;
  return `exceeded ${budgetPercent(fraction)} memory budget (RSS ${mib(rss)} of ${mib(limit)}); ` +
    "killed by its nanny";
}

const MEMORY_EXIT = /^exceeded \d+% memory budget \(RSS \d+ MiB of \d+ MiB\); killed by its nanny$/;

/** Whether `how` (a worker process's exit, as a nanny reports it) is a kill for memory. */
export function isMemoryExit(how: string): boolean {
  return MEMORY_EXIT.test(how);
}
