/** Helpers for integration tests: polling with a deadline, process checks. */

/** Polls `cond` until it is true or `ms` pass (then throws with `what`). */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  let delay = 5;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Whether a process with this pid is alive (not gone, not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Reads lines of a stream until one matches, returning the match (the rest keeps flowing). */
export async function readUntil(
  lines: AsyncIterator<string>,
  re: RegExp,
  seen: string[] = [],
): Promise<RegExpMatchArray> {
  for (;;) {
    const r = await lines.next();
    if (r.done) throw new Error(`stream ended before ${re}; saw:\n${seen.join("\n")}`);
    seen.push(r.value);
    const m = r.value.match(re);
    if (m) return m;
  }
}

/** `p`, or a rejection naming `what` once `ms` pass first (a test fails instead of hanging). */
export async function within<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
