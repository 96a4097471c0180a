/**
 * Reads another process's memory (its resident set size) for a nanny, from `/proc/<pid>/status`.
 * Systems without /proc (macOS, Windows) give null, and the nanny's restart for memory
 * (`memoryTerminate`) is not enforced there: that is said once.
 *
 * @module
 */

let warned = false;

/** The process's resident memory in bytes (VmRSS), or null when it cannot be read. */
export async function processRss(pid: number): Promise<number | null> {
  let status: string;
  try {
    status = await Deno.readTextFile(`/proc/${pid}/status`);
  } catch {
    if (!warned && !hasProcFs()) {
      warned = true;
      console.warn(
        "memoryTerminate is not enforced: this system has no /proc to read worker processes' " +
          "memory from (the workers still pause by their own measure)",
      );
    }
    return null; // gone meanwhile, or no /proc
  }
  const m = status.match(/^VmRSS:\s+(\d+)\s+kB$/m);
  return m ? Number(m[1]) * 1024 : null;
}

function hasProcFs(): boolean {
  try {
    Deno.statSync("/proc/self/status");
    return true;
  } catch {
    return false;
  }
}
