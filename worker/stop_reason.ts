/**
 * Why a worker stopped, as the worker command line prints it: the stops the worker did not
 * choose itself (its scheduler closed, it was retired, it lost its scheduler). A worker process
 * prints its line only when the command that started it asks (`--stop-lines`, the nanny's
 * `stopLines`); LocalCluster's stay quiet.
 *
 * @module
 */

/**
 * The line for worker `name` at `address` stopping for `reason` (a close reason), or null when
 * the stop needs no line: a restart, whose new worker prints where it listens.
 */
export function stoppedLine(name: string, address: string, reason: string): string | null {
  if (reason === "restart") return null;
  const who = name === address ? address : `${name} (${address})`;
  const why = reason === "scheduler closing" ? "the scheduler closed" : reason;
  return `Worker ${who} stopped: ${why}`;
}
