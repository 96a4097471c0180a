/**
 * The worker command line (Dask's `dask worker`):
 *
 * ```sh
 * deno run -A jsr:@x/dtask/worker tcp://host:8786 --nworkers 2 --nthreads 2
 * deno run -A jsr:@x/dtask/worker --scheduler-file sched.json
 * ```
 *
 * By default it is the nanny of the worker processes it starts (`--no-nanny`: one worker in
 * this process). It says, as Dask's does, where it connects, where each worker listens (again
 * after a restart), and why a worker or the command stops; SIGINT or SIGTERM stop it within 3 s.
 * Its options, as `--help` prints them:
 *
 * - `--nthreads N`: thread slots per worker (default: cores / nworkers)
 * - `--nworkers N`: worker processes (default 1)
 * - `--memory-limit M`: per worker: bytes, 4GiB, or auto (default auto); 0: no limit, and no
 *   memory threshold below
 * - `--memory-target F`: fraction of the limit of stored values past which the least recently
 *   used spill to disk (default 0.6; false: off)
 * - `--memory-spill F`: fraction of the limit of process memory past which values spill
 *   (default 0.7; false: off)
 * - `--memory-pause F`: fraction of the limit past which a worker starts no new task until its
 *   memory falls (default 0.8; false: off)
 * - `--memory-terminate F`: fraction of the limit past which the nanny restarts the worker
 *   (default 0.95; false: off)
 * - `--max-spill M`: cap on the bytes spilled to disk: bytes or 10GiB (default false: none)
 * - `--local-directory D`: where each worker makes its spill directory (default
 *   `<TMPDIR or /tmp>/dtask-scratch`)
 * - `--name NAME`: worker name (with `--nworkers` > 1, NAME-0, NAME-1, ...)
 * - `--resources R`: e.g. GPU=1,MEM=2e9
 * - `--host H`: interface to listen on for peers (default 127.0.0.1; 0.0.0.0: all)
 * - `--contact-address A`: the address peers dial, `tcp://host[:port]`
 * - `--scheduler-file F`: read the scheduler's address from file F (waiting up to 30 s for it
 *   to appear) instead of giving it
 * - `--auth-token-file F`: token the scheduler requires (or set `DTASK_AUTH_TOKEN`)
 * - `--tls-cert F`, `--tls-key F`: the workers' peer ports speak TLS alone with this certificate
 *   and key (PEM); `--tls-ca-file F`: the CA certificates to trust dialling tls:// addresses
 * - `--death-timeout T`: exit when the scheduler cannot be reached for this long: 60s, 500ms,
 *   2m; a plain number is seconds (default: keep trying)
 * - `--no-nanny`: run the workers in this process, without a nanny
 * - `--preload URL`: module every worker thread imports (repeatable)
 * - `--config F`: the deno.json worker processes run with, for what tasks import (default: the
 *   one this command runs with)
 * - `--version`, `-h` / `--help`
 *
 * Imported as a module it runs nothing: {@link main} runs the command with given arguments.
 * @module
 */
import "../comm/msgpack_native.ts";
import { parseArgs } from "node:util";
import { reportExit } from "./report_exit.ts";
import { parseMemoryLimit } from "./memory_limit.ts";
import {
  absoluteLocalDirectory,
  type CheckedMemoryOptions,
  checkMemoryOptions,
} from "./memory_config.ts";
import { parseDuration } from "./duration.ts";
import { type KeeperOutcome, WorkerKeeper } from "./keeper.ts";
import { startInProcess, startNanny } from "./kept_workers.ts";
import { pause } from "../core/backoff.ts";
import { AUTH_TOKEN_ENV, readAuthToken } from "../comm/auth_token.ts";
import { parseContactAddress } from "../comm/contact_address.ts";
import { exposureWarning } from "../comm/exposure.ts";
import { readTlsFiles } from "../comm/tls_files.ts";
import { dialTls, type TlsOptions } from "../comm/tls_options.ts";
import { configArgs } from "./config.ts";
import { schedulerAddressFromFile } from "../cluster/scheduler_file.ts";
import denoJson from "../deno.json" with { type: "json" };

const HELP = `Usage: deno run -A jsr:@x/dtask/worker SCHEDULER_ADDRESS [options]
       deno run -A jsr:@x/dtask/worker --scheduler-file F [options]

Starts dtask workers that connect to the scheduler at SCHEDULER_ADDRESS (tcp://host:8786, or
tls://host:8786 with --tls-cert, --tls-key and --tls-ca-file), or at the address in the file
the scheduler wrote with --scheduler-file F.
A worker that cannot start or loses its scheduler is started again (with backoff); the others
keep running.

Options:
  --nthreads N          thread slots per worker (default: cores / nworkers)
  --nworkers N          worker processes (default 1)
  --memory-limit M      per worker: bytes, 4GiB, or auto (default auto); 0: no limit, and
                        no memory threshold below
  --memory-target F     fraction of the limit of stored values past which the least recently
                        used spill to disk (default 0.6; false: off)
  --memory-spill F      fraction of the limit of process memory past which values spill
                        (default 0.7; false: off)
  --memory-pause F      fraction of the limit past which a worker pauses: it starts no new
                        task until its memory falls (default 0.8; false: off)
  --memory-terminate F  fraction of the limit past which the nanny restarts the worker
                        (default 0.95; false: off)
  --max-spill M         cap on the bytes spilled to disk: bytes or 10GiB (default false: none)
  --local-directory D   where each worker makes its spill directory (default
                        <TMPDIR or /tmp>/dtask-scratch; a relative path is resolved from here)
  --name NAME           worker name (with --nworkers > 1, NAME-0, NAME-1, ...)
  --resources R         e.g. GPU=1,MEM=2e9
  --host H              interface to listen on for peers (default 127.0.0.1; 0.0.0.0: all)
  --contact-address A   the address peers dial, tcp://host[:port] (default: the listen address;
                        with --host 0.0.0.0, this machine's first non-loopback IPv4 address)
  --scheduler-file F    read the scheduler's address from file F (waiting up to 30 s for it
                        to appear) instead of SCHEDULER_ADDRESS
  --auth-token-file F   token the scheduler requires (or set ${AUTH_TOKEN_ENV})
  --tls-cert F          with --tls-key: the workers' peer ports speak TLS alone, presenting the
                        certificate (PEM) in F; their addresses become tls://host:port
  --tls-key F           the private key (PEM) of --tls-cert
  --tls-ca-file F       CA certificates (PEM) to trust dialling the tls:// scheduler and peers
  --death-timeout T     exit when the scheduler cannot be reached for this long: 60s, 500ms,
                        2m; a plain number is seconds (default: keep trying)
  --no-nanny            run the workers in this process, without a nanny
  --preload URL         module every worker thread imports (repeatable; absolute URL or
                        import-map name; a relative path is resolved from here)
  --config F            the deno.json worker processes run with, for what tasks import
                        (default: the one this command runs with, found from its main module)
  --version             print the version
  -h, --help            this text`;

/** Parses `GPU=1,MEM=2e9` into a resources record. */
export function parseResources(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of s.split(/[,\s]+/).filter(Boolean)) {
    const [k, v] = part.split("=");
    const n = Number(v);
    if (!k || v === undefined || !Number.isFinite(n)) {
      throw new TypeError(`--resources takes NAME=NUMBER pairs, got ${JSON.stringify(part)}`);
    }
    out[k] = n;
  }
  return out;
}

/** A --preload value as a module specifier: URLs and import-map names as they are, paths resolved. */
export function resolvePreload(s: string): string {
  if (/^(\.{0,2}\/)/.test(s)) return new URL(s, `file://${Deno.cwd()}/`).href;
  if (!URL.canParse(s)) throw new TypeError(`--preload: not a module URL or path: ${s}`);
  return s;
}

/** Runs the worker CLI with `args`; resolves with its exit code once it has stopped. */
export async function main(args: string[]): Promise<number> {
  // listening from the start: a signal during start-up stops it too
  const { promise: signalled, resolve: stop } = Promise.withResolvers<Deno.Signal>();
  const onInt = () => stop("SIGINT"), onTerm = () => stop("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  try {
    return await run(args, signalled);
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
}

async function run(args: string[], signalled: Promise<Deno.Signal>): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        nthreads: { type: "string" },
        nworkers: { type: "string", default: "1" },
        "memory-limit": { type: "string", default: "auto" },
        "memory-target": { type: "string" },
        "memory-spill": { type: "string" },
        "memory-pause": { type: "string" },
        "memory-terminate": { type: "string" },
        "max-spill": { type: "string" },
        "local-directory": { type: "string" },
        name: { type: "string" },
        resources: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        "contact-address": { type: "string" },
        "auth-token-file": { type: "string" },
        "scheduler-file": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca-file": { type: "string" },
        "death-timeout": { type: "string" },
        "no-nanny": { type: "boolean", default: false },
        preload: { type: "string", multiple: true },
        config: { type: "string" },
        version: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.version) {
    console.log(`dtask ${denoJson.version}`);
    return 0;
  }
  const schedulerFile = values["scheduler-file"];
  if (positionals.length !== (schedulerFile === undefined ? 1 : 0)) {
    console.error(`give exactly one scheduler address or --scheduler-file\n\n${HELP}`);
    return 2;
  }
  const nworkers = Number(values.nworkers);
  const cores = navigator.hardwareConcurrency || 1;
  const nthreads = values.nthreads
    ? Number(values.nthreads)
    : Math.max(1, Math.floor(cores / nworkers));
  if (!Number.isInteger(nworkers) || nworkers < 1 || !Number.isInteger(nthreads) || nthreads < 1) {
    console.error("--nworkers and --nthreads must be whole numbers >= 1");
    return 2;
  }
  let memoryLimit: number, resources: Record<string, number> | undefined;
  let memory: CheckedMemoryOptions;
  let preload: string[] | undefined, deathTimeout: number | undefined;
  let authToken: string | undefined;
  let tls: TlsOptions | undefined;
  const contactAddress = values["contact-address"];
  const config = values.config;
  try {
    preload = values.preload?.map(resolvePreload);
    memoryLimit = parseMemoryLimit(values["memory-limit"], nworkers);
    // relative to here: the worker processes get an absolute path
    memory = absoluteLocalDirectory(checkMemoryOptions({
      memoryTarget: values["memory-target"],
      memorySpill: values["memory-spill"],
      memoryPause: values["memory-pause"],
      memoryTerminate: values["memory-terminate"],
      maxSpill: values["max-spill"],
      localDirectory: values["local-directory"],
    }, "flag"));
    resources = values.resources ? parseResources(values.resources) : undefined;
    const death = values["death-timeout"];
    deathTimeout = death === undefined ? undefined : parseDuration(death, "--death-timeout");
    if (contactAddress !== undefined) {
      const { port } = parseContactAddress(contactAddress);
      if (port !== undefined && nworkers > 1) {
        throw new TypeError("--contact-address with a port names one worker: use --nworkers 1");
      }
    }
    authToken = await readAuthToken(values["auth-token-file"]);
    tls = await readTlsFiles({
      cert: values["tls-cert"],
      key: values["tls-key"],
      caFile: values["tls-ca-file"],
    });
    if (values.config !== undefined) configArgs(values.config); // throws if it is not a file
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  let scheduler: string;
  if (schedulerFile === undefined) scheduler = positionals[0];
  else {
    console.log(`Waiting for the scheduler file ${schedulerFile}`);
    const stopped = new AbortController();
    signalled.then(() => stopped.abort(new Error("stopped by a signal")));
    try {
      scheduler = await schedulerAddressFromFile(schedulerFile, { signal: stopped.signal });
    } catch (e) {
      console.error((e as Error).message);
      return stopped.signal.aborted ? 0 : 1;
    }
  }
  if (tls !== undefined && tls.cert === undefined) {
    // a worker with TLS options listens with TLS too, whatever its scheduler's address says
    console.error(
      "a worker of a TLS cluster listens with TLS too: give --tls-cert and --tls-key with " +
        "--tls-ca-file",
    );
    return 2;
  }
  const warning = exposureWarning(values.host, {
    who: "this worker",
    authToken,
    tls,
    fix: `Give the scheduler and its workers a token: --auth-token-file or ${AUTH_TOKEN_ENV}.`,
  });
  if (warning) console.warn(warning);
  const nameOf = (i: number) =>
    values.name === undefined ? undefined : nworkers > 1 ? `${values.name}-${i}` : values.name;
  const common = {
    scheduler,
    nthreads,
    memoryLimit,
    ...memory,
    host: values.host,
    contactAddress,
    authToken,
    tls,
    resources,
    preload,
  };

  // each nanny tells the scheduler how its worker's process ended (for KilledWorker)
  let stopping = false;
  const reports = new Set<Promise<void>>();
  const onStarted = (address: string, exited: Promise<string>) => {
    exited.then((how) => {
      if (stopping) return;
      const p = reportExit(scheduler, address, how, authToken, dialTls(tls));
      reports.add(p);
      p.finally(() => reports.delete(p));
    });
  };
  console.log(`Waiting to connect to ${scheduler}`);
  const keepers = Array.from({ length: nworkers }, (_, i) => {
    const name = nameOf(i);
    const label = name ?? `${i}`;
    // the first start says where it listens; every later one (a restart) where it listens now
    let started = false;
    const announce = (address: string, pid?: number) => {
      const at = `${address}${pid ? ` (pid ${pid})` : ""}`;
      console.log(started ? `Worker ${label} restarted at ${at}` : `Worker at: ${at}`);
      started = true;
    };
    return new WorkerKeeper({
      name: label,
      scheduler,
      deathTimeout,
      log: (line) => console.error(line),
      onStarted: (w) => announce(w.address, w.pid),
      start: values["no-nanny"]
        ? (budget) => startInProcess({ ...common, name }, budget)
        : (budget) =>
          // its worker process says why it stopped when its scheduler ended it (on stderr)
          startNanny(
            { ...common, name, config, onStarted, onRenewed: announce, stopLines: true },
            budget,
          ),
    });
  });
  // it ends when every worker has ended for good (retired, the scheduler closed or gone)
  const signal = await Promise.race([
    signalled,
    Promise.all(keepers.map((k) => k.outcome)).then(() => null),
  ]);
  if (signal) console.error(`Stopping: signal ${signal}`);
  stopping = true;
  const outcomes: KeeperOutcome[] = await Promise.all(keepers.map((k) => k.stop()));
  // reports in flight get a moment: the scheduler may be gone (best effort)
  const enough = new AbortController();
  await Promise.race([Promise.all(reports), pause(1000, enough.signal)]);
  enough.abort();
  return outcomes.includes("scheduler-gone") ? 1 : 0;
}

/** How long a signalled command may take to stop before it exits regardless (ms). */
const STOP_DEADLINE = 2500;

if (import.meta.main) {
  // SIGTERM/SIGINT end the command within 3 s, whatever its workers are doing
  const deadline = () => Deno.unrefTimer(setTimeout(() => Deno.exit(1), STOP_DEADLINE));
  Deno.addSignalListener("SIGINT", deadline);
  Deno.addSignalListener("SIGTERM", deadline);
  Deno.exit(await main(Deno.args));
}
