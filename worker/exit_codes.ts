/**
 * How a worker process ends, so that its nanny knows whether to start another.
 *
 * @module
 */

/** Closed on purpose (retired, the scheduler closing, SIGTERM, stdin closed): not restarted. */
export const EXIT_DONE = 0;
/** Lost its scheduler connection without being told to stop: the nanny starts another. */
export const EXIT_LOST = 1;
/** Asked to restart (`client.restart()`): the nanny starts another (EX_TEMPFAIL). */
export const EXIT_RESTART = 75;

/** Says how a process ended, for logs and KilledWorker messages: "exit code 3", "signal SIGKILL". */
export function describeExit(status: { code: number; signal: string | null | undefined }): string {
  return status.signal ? `killed by signal ${status.signal}` : `exit code ${status.code}`;
}
