/**
 * Stack frames around tasks: where a function was submitted from (read from a stack on the
 * client), and a task error's stack as its user reads it — the compiled function's frames name
 * that place and the line within the function, dtask's own frames under the task are dropped,
 * and a last line names the task. Browser-safe.
 *
 * @module
 */
import { SOURCE_FIRST_LINE, TASK_SOURCE_SCHEME } from "./compile.ts";

const ROOT = new URL("../", import.meta.url).href;
/** dtask's own modules (tests and examples are user code). */
const OWN = [
  "actor/",
  "client/",
  "cluster/",
  "comm/",
  "core/",
  "dashboard/",
  "scheduler/",
  "worker/",
  "mod.ts",
].map((p) => ROOT + p);

const FRAME = /^\s+at /;
/** How deep a stack `submitSite` reads (dtask's frames come first). */
const SITE_DEPTH = 40;

/** Where a frame line points: the text in its last parentheses, or after `at ` / `@`. */
function locationOf(line: string): string {
  const t = line.trim();
  if (t.endsWith(")")) {
    const open = t.lastIndexOf(" (");
    if (open >= 0) return t.slice(open + 2, -1);
  }
  if (t.startsWith("at ")) return t.slice(3).replace(/^async /, "");
  return t.slice(t.lastIndexOf("@") + 1); // Firefox, Safari: name@url:line:col
}

/** Whether a location is in dtask's own modules or the runtime's. */
function internal(location: string): boolean {
  if (location.startsWith("ext:") || location.startsWith("node:")) return true;
  return OWN.some((p) => location.startsWith(p));
}

/**
 * The place that called into dtask, as "url:line", from a stack taken inside dtask (the first
 * frame outside dtask's own modules and the runtime); undefined when there is none.
 */
export function siteFromStack(stack: string | undefined): string | undefined {
  if (typeof stack !== "string") return undefined;
  for (const line of stack.split("\n").slice(1)) {
    const m = /^(.+):(\d+):\d+$/.exec(locationOf(line));
    if (m === null || m[1].includes(" ") || internal(m[1])) continue;
    return `${m[1]}:${m[2]}`;
  }
  return undefined;
}

/**
 * An Error whose stack `siteFromStack` reads later (taking it is cheap; formatting it is not,
 * so it is read once, when the function is first sent).
 */
export function stackHere(): Error {
  const E = Error as { stackTraceLimit?: number };
  const limit = E.stackTraceLimit;
  E.stackTraceLimit = SITE_DEPTH;
  try {
    return new Error("submitted here");
  } finally {
    E.stackTraceLimit = limit;
  }
}

/** A compiled function's frame location, `url, <anonymous>:line:col`, for the user. */
function described(location: string, url: string): string | undefined {
  const prefix = `${url}, <anonymous>:`;
  if (!location.startsWith(prefix)) return undefined;
  const m = /^(\d+):(\d+)$/.exec(location.slice(prefix.length));
  if (m === null) return undefined;
  const at = `line ${Number(m[1]) - SOURCE_FIRST_LINE + 1}:${m[2]}`;
  return url.startsWith(TASK_SOURCE_SCHEME)
    ? `${at} of the task function`
    : `${url}, ${at} of the function submitted there`;
}

/**
 * Task `key`'s error stack as its user reads it: frames of its function (compiled under `url`,
 * see taskSourceUrl) name where it was submitted and the line within it; the frames under the
 * task that are dtask's or the runtime's are dropped (all kept when there is nothing else); a
 * last line names the task.
 */
export function taskStack(stack: string, key: string, url: string | undefined): string {
  const lines = stack.split("\n");
  let first = lines.findIndex((l) => FRAME.test(l));
  if (first < 0) first = lines.length;
  const frames = lines.slice(first).map((line) => {
    const location = url === undefined ? undefined : locationOf(line);
    const mine = location === undefined ? undefined : described(location, url!);
    return mine === undefined ? line : line.slice(0, line.lastIndexOf(location!)) + mine + ")";
  });
  let end = frames.length;
  while (end > 0 && (!FRAME.test(frames[end - 1]) || internal(locationOf(frames[end - 1])))) end--;
  if (end === 0) end = frames.length;
  return [...lines.slice(0, first), ...frames.slice(0, end), `    in task ${key}`].join("\n");
}
