/**
 * A worker's memory thresholds (Dask's `distributed.worker.memory.*`) and spill directory: the
 * options, as LocalCluster, `Worker`, the nanny and the worker command line take them, and the
 * checked, resolved `MemoryConfig` a worker holds. No I/O, but for the current directory that
 * `absoluteLocalDirectory` reads for a relative path.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { parseSize } from "./memory_limit.ts";
import type { MemoryConfig } from "../core/memory_config.ts";

export type { MemoryConfig } from "../core/memory_config.ts";

/**
 * The memory thresholds, with the same names on LocalCluster, `Worker` and the nanny; `memoryLimit`
 * 0 or null turns them all off. They are checked and reach every worker. `memoryPause` is enforced
 * (worker/memory_pause.ts), `memoryTerminate` by the nanny (worker/nanny_actor.ts); spilling is to
 * use the others.
 */
export interface MemoryOptions {
  /**
   * Fraction of `memoryLimit` of managed memory (the bytes of the values a worker holds) past
   * which it spills the least recently used values to disk (default 0.6; false: off).
   */
  memoryTarget?: number | false;
  /**
   * Fraction of `memoryLimit` of process memory (RSS) past which a worker spills values until it
   * is back under the target (default 0.7; false: off).
   */
  memorySpill?: number | false;
  /**
   * Fraction of `memoryLimit` of process memory (RSS) past which a worker pauses: it starts no
   * new task until its memory falls (default 0.8; false: off).
   */
  memoryPause?: number | false;
  /**
   * Fraction of `memoryLimit` of process memory (RSS) past which the nanny restarts the worker
   * process (default 0.95; false: off).
   */
  memoryTerminate?: number | false;
  /**
   * Cap on the bytes a worker spills to disk: bytes, or a size such as "10GiB" (default false:
   * no cap; null is taken as false; 0: nothing is spilled).
   */
  maxSpill?: number | string | false | null;
  /**
   * Where a worker makes its spill directory (Dask's `local_directory`): default
   * `<TMPDIR or /tmp>/dtask-scratch`; a relative path is taken from the current directory of
   * the program (or command line) given it. Each worker spills into a directory of its own under
   * it, removed when it closes (or by the next worker to start there, after a crash).
   */
  localDirectory?: string;
}

/** The thresholds' fractions when none is given (Dask's defaults). */
export const DEFAULT_MEMORY_FRACTIONS = {
  memoryTarget: 0.6,
  memorySpill: 0.7,
  memoryPause: 0.8,
  memoryTerminate: 0.95,
} as const;

/** One of the four fraction thresholds. */
export type Threshold = keyof typeof DEFAULT_MEMORY_FRACTIONS;

/** What `false` turns off, for the messages. */
const TURNS_OFF: Record<Threshold, string> = {
  memoryTarget: "spilling by managed memory",
  memorySpill: "spilling by process memory",
  memoryPause: "pausing",
  memoryTerminate: "restarting by the nanny",
};

/**
 * How values are named in messages: as options (`memoryPause`, taking numbers and false) or as
 * command-line flags (`--memory-pause`, taking strings such as "0.8" and "false").
 */
export type Spelling = "option" | "flag";

const flagOf = (option: string) => "--" + option.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

/**
 * Checks one threshold: a fraction above 0 and at most 1, or false (off); undefined gives the
 * default. As flags, the strings "false" and "0.8" are read too.
 */
export function parseThreshold(
  value: unknown,
  threshold: Threshold,
  spelling: Spelling = "option",
): number | false {
  if (value === undefined) return DEFAULT_MEMORY_FRACTIONS[threshold];
  let v = value;
  if (spelling === "flag" && typeof v === "string") {
    const s = v.trim().toLowerCase();
    v = s === "false" ? false : s === "" ? NaN : Number(s);
  }
  if (v === false) return false;
  if (typeof v === "number" && v > 0 && v <= 1) return v;
  const name = spelling === "flag" ? flagOf(threshold) : threshold;
  const limit = spelling === "flag" ? "--memory-limit" : "memoryLimit";
  const got = typeof value === "string" && spelling === "option"
    ? JSON.stringify(value)
    : String(value);
  throw new TypeError(
    `${name} must be a fraction of ${limit} greater than 0 and at most 1 (such as ` +
      `${DEFAULT_MEMORY_FRACTIONS[threshold]}), or false to turn ${TURNS_OFF[threshold]} off; ` +
      `got ${got}`,
  );
}

/**
 * Checks `maxSpill`: bytes or a size such as "10GiB", or false/null (no cap, the default).
 * Returns the bytes, or false. As a flag, the string "false" is read too.
 */
export function parseMaxSpill(value: unknown, spelling: Spelling = "option"): number | false {
  if (value === undefined || value === null || value === false) return false;
  if (spelling === "flag" && typeof value === "string" && value.trim().toLowerCase() === "false") {
    return false;
  }
  const name = spelling === "flag" ? "--max-spill" : "maxSpill";
  const allowed = `use bytes or a size such as "10GiB", or false for no cap`;
  if (typeof value !== "number" && typeof value !== "string") {
    throw new TypeError(`${name} must be bytes, a size such as "10GiB", or false; got ${value}`);
  }
  return parseSize(value, name, allowed);
}

/**
 * Checks `localDirectory`: a directory path, or undefined (the default). It is not made here:
 * each worker makes it when it first spills.
 */
export function parseLocalDirectory(
  value: unknown,
  spelling: Spelling = "option",
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.trim() !== "") return value;
  const name = spelling === "flag" ? "--local-directory" : "localDirectory";
  const got = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new TypeError(
    `${name} must be a directory path (a string) under which each worker makes its spill ` +
      `directory; leave it out for <TMPDIR or /tmp>/dtask-scratch; got ${got}`,
  );
}

/**
 * `o` with a relative `localDirectory` made absolute against the current directory (read only
 * then) of the program or command line given it: its worker processes, and workers started
 * again after it changed directory, spill in the same place.
 */
export function absoluteLocalDirectory(
  o: CheckedMemoryOptions,
  cwd: () => string = Deno.cwd,
): CheckedMemoryOptions {
  const dir = o.localDirectory;
  return dir === undefined || isAbsolute(dir) ? o : { ...o, localDirectory: resolve(cwd(), dir) };
}

/**
 * The options checked, with their defaults filled in: fractions or false, maxSpill in bytes,
 * and `localDirectory` only when given.
 */
export type CheckedMemoryOptions = { [T in Threshold]: number | false } & {
  maxSpill: number | false;
  localDirectory?: string;
};

/**
 * Checks every option (a TypeError names the first that makes no sense) and fills in the
 * defaults; as flags, their strings are read too.
 */
export function checkMemoryOptions(
  o: { [K in keyof MemoryOptions]?: unknown },
  spelling: Spelling = "option",
): CheckedMemoryOptions {
  const checked: CheckedMemoryOptions = {
    memoryTarget: parseThreshold(o.memoryTarget, "memoryTarget", spelling),
    memorySpill: parseThreshold(o.memorySpill, "memorySpill", spelling),
    memoryPause: parseThreshold(o.memoryPause, "memoryPause", spelling),
    memoryTerminate: parseThreshold(o.memoryTerminate, "memoryTerminate", spelling),
    maxSpill: parseMaxSpill(o.maxSpill, spelling),
  };
  const local = parseLocalDirectory(o.localDirectory, spelling);
  if (local !== undefined) checked.localDirectory = local;
  return checked;
}

/**
 * Resolves a worker's thresholds into bytes of `memoryLimit` (bytes; 0 or null: no limit, which
 * turns every threshold off). Each option is checked whatever the limit; their order is not
 * (as in Dask: a pause below the target simply pauses first).
 */
export function resolveMemoryConfig(
  memoryLimit: number | null | undefined,
  options: MemoryOptions = {},
): MemoryConfig {
  const limit = memoryLimit ?? 0;
  if (typeof limit !== "number" || !(limit >= 0) || !Number.isFinite(limit)) {
    throw new TypeError(
      `memoryLimit must be a non-negative number of bytes (0: no limit), got ${memoryLimit}`,
    );
  }
  const o = checkMemoryOptions(options);
  const bytes = Math.floor(limit);
  const of = (f: number | false) => (bytes === 0 || f === false ? null : Math.floor(f * bytes));
  return {
    limit: bytes,
    target: of(o.memoryTarget),
    spill: of(o.memorySpill),
    pause: of(o.memoryPause),
    terminate: of(o.memoryTerminate),
    maxSpill: bytes === 0 || o.maxSpill === false ? null : o.maxSpill,
  };
}

/** The worker-process flags that carry `o` (only those given), as `--memory-pause=false`. */
export function memoryFlags(o: MemoryOptions): string[] {
  const flags: string[] = [];
  for (const t of Object.keys(DEFAULT_MEMORY_FRACTIONS) as Threshold[]) {
    if (o[t] !== undefined) flags.push(`${flagOf(t)}=${o[t]}`);
  }
  if (o.maxSpill !== undefined && o.maxSpill !== null) flags.push(`--max-spill=${o.maxSpill}`);
  if (o.localDirectory !== undefined) flags.push(`--local-directory=${o.localDirectory}`);
  return flags;
}
