/**
 * A worker's spill directory on disk: made under a base directory with a `lock` file the worker
 * holds for its life (the lock dies with the process) and a `pid` file, and the sweep that removes
 * the directories of workers that are gone. Uses only `Deno.*` file APIs, so it works in a worker
 * process and in a worker thread alike.
 *
 * @module
 */
import { SpillError } from "../core/errors.ts";

/** Directories of workers whose setup never finished are removed once this old, in ms. */
export const STALE_UNLOCKED_AGE = 60_000;

/** The prefix of each worker's directory under the base. */
export const SPILL_DIR_PREFIX = "worker-";

/** A spill directory made by this worker, with the open `lock` file that marks it as alive. */
export interface SpillDir {
  /** The directory's path. */
  readonly path: string;
  /** The `lock` file, held with an exclusive lock until it is closed. */
  readonly lock: Deno.FsFile;
}

/** Where spill directories go: `localDirectory`, else `<TMPDIR or /tmp>/dtask-scratch`. */
export function spillBase(localDirectory?: string): string {
  if (localDirectory !== undefined) return localDirectory;
  let tmp: string | undefined;
  try {
    tmp = Deno.env.get("TMPDIR");
  } catch { /* no env permission: the default below */ }
  return `${(tmp || "/tmp").replace(/\/+$/, "")}/dtask-scratch`;
}

/**
 * Makes a fresh `worker-*` directory under `base` (creating `base` if needed), locks its `lock`
 * file and writes its `pid` file. Fails with "cannot create spill directory <base>: <why>".
 */
export async function makeSpillDir(base: string): Promise<SpillDir> {
  let path: string;
  try {
    await Deno.mkdir(base, { recursive: true });
    path = await Deno.makeTempDir({ dir: base, prefix: SPILL_DIR_PREFIX });
  } catch (e) {
    throw new SpillError(`cannot create spill directory ${base}: ${osMessage(e)}`, { cause: e });
  }
  let lock: Deno.FsFile | undefined;
  try {
    lock = await Deno.open(`${path}/lock`, { write: true, createNew: true });
    // Blocking, not tryLock: a sweeping worker may hold this lock for the moment it takes to see
    // that the directory has no pid yet and is young, so it keeps it.
    await lock.lock(true);
    await Deno.writeTextFile(`${path}/pid`, `${Deno.pid}\n`, { createNew: true });
    return { path, lock };
  } catch (e) {
    lock?.close();
    await Deno.remove(path, { recursive: true }).catch(() => {});
    throw new SpillError(`cannot create spill directory ${path}: ${osMessage(e)}`, { cause: e });
  }
}

/**
 * Removes the spill directories under `base` that belong to no live worker: each `worker-*`
 * directory whose lock can be taken and whose pid is not this process's (workers in one process
 * share a pid), and each one without a lock file or pid that is older than 60 s (a worker that
 * died while making it). Best effort: never rejects.
 */
export async function cleanStale(base: string): Promise<void> {
  let names: string[];
  try {
    names = [];
    for await (const e of Deno.readDir(base)) {
      if (e.isDirectory && e.name.startsWith(SPILL_DIR_PREFIX)) names.push(e.name);
    }
  } catch {
    return; // no base directory yet: nothing to clean
  }
  for (const name of names) {
    await cleanOne(`${base}/${name}`).catch(() => {}); // another worker may be removing it too
  }
}

async function cleanOne(dir: string): Promise<void> {
  let lock: Deno.FsFile;
  try {
    lock = await Deno.open(`${dir}/lock`, { read: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return;
    if (await isOld(dir)) await Deno.remove(dir, { recursive: true });
    return;
  }
  try {
    if (!(await lock.tryLock(true))) return; // a live worker holds it
    const pid = await readPid(dir);
    const dead = pid === undefined ? await isOld(dir) : pid !== Deno.pid;
    if (dead) await Deno.remove(dir, { recursive: true });
  } finally {
    lock.close();
  }
}

async function readPid(dir: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt(await Deno.readTextFile(`${dir}/pid`), 10);
    return Number.isSafeInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function isOld(dir: string): Promise<boolean> {
  const { mtime } = await Deno.stat(dir);
  return mtime !== null && Date.now() - mtime.getTime() > STALE_UNLOCKED_AGE;
}

/**
 * The operating system's words for a failed file operation, without the call and path Deno
 * appends: "No space left on device (os error 28)".
 */
export function osMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return /^(.*?\(os error \d+\))/.exec(text)?.[1] ?? text;
}

/** The sweeps of this process, by base: the workers of one process share them. */
const sweeps = new Map<string, Promise<void>>();

/**
 * `cleanStale(base)`, once per process: workers sharing a process (`--no-nanny`,
 * `processes: false`) share their base, and one sweep of it is enough.
 */
export function cleanStaleOnce(base: string): Promise<void> {
  let sweep = sweeps.get(base);
  if (!sweep) sweeps.set(base, sweep = cleanStale(base));
  return sweep;
}
