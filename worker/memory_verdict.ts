/**
 * What a nanny does about its worker process's memory on each tick (Dask's
 * `NannyMemoryManager.memory_monitor`). Pure.
 *
 * @module
 */

/** "ok": nothing; "term": ask it to end (SIGTERM); "kill": it was asked and is still over (SIGKILL). */
export type MemoryVerdict = "ok" | "term" | "kill";

/**
 * The verdict for a process holding `rss` bytes (null: unknown) against `terminate`, the bytes
 * past which it is restarted (`memoryTerminate` of `memoryLimit`); `termed`: it was already sent
 * SIGTERM for memory. Still over at the next tick means it is slow to accept SIGTERM: it is killed.
 */
export function memoryVerdict(
  rss: number | null,
  terminate: number,
  termed: boolean,
): MemoryVerdict {
  if (rss === null || rss <= terminate) return "ok";
  return termed ? "kill" : "term";
}
