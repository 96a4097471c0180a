/**
 * The scheduler file, as Dask's `--scheduler-file`: a JSON file the scheduler writes once it
 * listens (`{"type":"Scheduler","id":…,"address":"tcp://…","services":{"dashboard":8787},…}`)
 * and removes when it stops, so that workers and clients on a shared file system find it
 * without being told its address.
 *
 * @example Connect a client to the scheduler started with `--scheduler-file sched.json`
 * ```ts
 * import { Client, schedulerAddressFromFile } from "@x/dtask";
 *
 * await using client = await Client.connect(await schedulerAddressFromFile("sched.json"));
 * ```
 * @module
 */
import { TimeoutError } from "../core/errors.ts";
import { pause } from "../core/backoff.ts";
import { DEFAULT_CONNECT_TIMEOUT } from "../comm/timeouts.ts";

/** What a scheduler file holds (Dask's scheduler identity, as its scheduler writes it). */
export interface SchedulerFileContent {
  /** Always "Scheduler". */
  type: "Scheduler";
  /** The scheduler's id, new at each start. */
  id: string;
  /** The address workers and clients dial (`tcp://host:port`). */
  address: string;
  /** The ports of its other servers: `dashboard` when it serves one. */
  services: { dashboard?: number };
  /** When it started, in seconds since the epoch (as Dask's). */
  started: number;
  /** Its workers when the file was written: none. */
  workers: Record<string, never>;
}

/** What the scheduler puts in its file: its address and its dashboard's link, if any. */
export interface SchedulerFileSource {
  /** The scheduler's address (`tcp://host:port`). */
  address: string;
  /** The dashboard's URL, or null. */
  dashboardLink: string | null;
}

/**
 * Writes the scheduler file at `path` for `scheduler`. It goes to a temporary file next to it
 * first, then is renamed into place: a reader never sees half of it.
 */
export async function writeSchedulerFile(
  path: string,
  scheduler: SchedulerFileSource,
): Promise<SchedulerFileContent> {
  const services: SchedulerFileContent["services"] = {};
  if (scheduler.dashboardLink !== null) {
    services.dashboard = Number(new URL(scheduler.dashboardLink).port);
  }
  const content: SchedulerFileContent = {
    type: "Scheduler",
    id: `Scheduler-${crypto.randomUUID()}`,
    address: scheduler.address,
    services,
    started: Date.now() / 1000,
    workers: {},
  };
  const partial = `${path}.${crypto.randomUUID().slice(0, 8)}.partial`;
  await Deno.writeTextFile(partial, JSON.stringify(content, null, 2) + "\n");
  try {
    await Deno.rename(partial, path);
  } catch (e) {
    await Deno.remove(partial).catch(() => {});
    throw e;
  }
  return content;
}

/** Removes the scheduler file at `path`; one already gone is no error. */
export async function removeSchedulerFile(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Options of {@link readSchedulerFile} and {@link schedulerAddressFromFile}. */
export interface SchedulerFileReadOptions {
  /** How long to wait for the file to appear (ms, default 30000: the connect timeout). */
  timeout?: number;
  /** Stops the wait: the read then rejects with this signal's reason. */
  signal?: AbortSignal;
}

/** Delay between looks at a scheduler file that is not there yet (ms). */
const POLL_INTERVAL = 100;

/**
 * Reads the scheduler file at `path`, waiting for it to appear (a scheduler started at the same
 * time may not have written it yet). Rejects with TimeoutError when there is still no valid
 * scheduler file after `timeout` ms, saying what was found.
 */
export async function readSchedulerFile(
  path: string,
  options: SchedulerFileReadOptions = {},
): Promise<SchedulerFileContent> {
  const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
  const deadline = Date.now() + timeout;
  for (;;) {
    options.signal?.throwIfAborted();
    const found = await lookAt(path);
    if (typeof found !== "string") return found;
    if (Date.now() >= deadline) {
      throw new TimeoutError(
        `no scheduler at ${path} after ${timeout} ms: ${found}. Start the scheduler with ` +
          `--scheduler-file ${path} (on a file system this machine shares), or give its address`,
      );
    }
    await pause(Math.min(POLL_INTERVAL, Math.max(0, deadline - Date.now())), options.signal);
  }
}

/**
 * The address in the scheduler file at `path`, once it appears (see {@link readSchedulerFile}):
 * `Client.connect(await schedulerAddressFromFile("sched.json"))` is Dask's
 * `Client(scheduler_file="sched.json")`.
 */
export async function schedulerAddressFromFile(
  path: string,
  options: SchedulerFileReadOptions = {},
): Promise<string> {
  return (await readSchedulerFile(path, options)).address;
}

/** The file's content, or why it is not (yet) a scheduler file. */
async function lookAt(path: string): Promise<SchedulerFileContent | string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "the file does not exist";
    throw e;
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    return "the file is not JSON";
  }
  const c = content as Partial<SchedulerFileContent> | null;
  if (c === null || typeof c !== "object" || typeof c.address !== "string") {
    return "the file has no scheduler address";
  }
  return content as SchedulerFileContent;
}
