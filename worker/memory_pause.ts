/**
 * When a worker pauses for memory (Dask's `memory_monitor`, its pause half): past `pause` bytes
 * of process memory (RSS) it starts no new task; it runs again once the process is back under
 * the pause threshold by a band of the limit, so that a process hovering at the threshold does
 * not flap between the two. Pure: the worker's actor reads the RSS on its memory tick.
 *
 * @module
 */
import type { MemoryConfig } from "../core/memory_config.ts";

/** How far under the pause threshold a paused worker must fall to run again: 5 % of its limit. */
export const UNPAUSE_BAND = 0.05;

/** Whether the worker should be paused, given its RSS now and whether it is paused. */
export function shouldPause(config: MemoryConfig, rss: number, paused: boolean): boolean {
  if (config.pause === null) return false;
  if (!paused) return rss > config.pause;
  return rss > config.pause - UNPAUSE_BAND * config.limit;
}

/** The log line of a pause or a resume, in Dask's words. */
export function pauseMessage(config: MemoryConfig, rss: number, paused: boolean): string {
  const pct = Math.round(100 * rss / config.limit);
  return `Worker is at ${pct}% memory usage. ${paused ? "Pausing" : "Resuming"} worker. ` +
    `Process memory: ${mib(rss)} -- Worker memory limit: ${mib(config.limit)}`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}
