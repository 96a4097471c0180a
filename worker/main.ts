/**
 * The worker command line: `deno run -A jsr:@x/dtask/worker tcp://host:8786 [options]`.
 * By default it is the nanny of the worker processes it starts (`--no-nanny`: one worker in
 * this process).
 * @module
 */
import { parseArgs } from "node:util";
import { Supervisor } from "../actor/supervisor.ts";
import { Nanny } from "./nanny.ts";
import { reportExit } from "./report_exit.ts";
import { Worker } from "./worker.ts";
import { parseMemoryLimit } from "./memory_limit.ts";

const HELP = `Usage: deno run -A jsr:@x/dtask/worker SCHEDULER_ADDRESS [options]

Starts dtask workers that connect to the scheduler at SCHEDULER_ADDRESS (tcp://host:8786).

Options:
  --nthreads N          thread slots per worker (default: cores / nworkers)
  --nworkers N          worker processes (default 1)
  --memory-limit M      per worker: bytes, 4GiB, or auto (default auto)
  --name NAME           worker name (with --nworkers > 1, NAME-0, NAME-1, ...)
  --resources R         e.g. GPU=1,MEM=2e9
  --host H              interface to listen on for peers (default 127.0.0.1)
  --auth-token-file F   token the scheduler requires
  --no-nanny            run one worker in this process, without a nanny
  --preload URL         module every worker thread imports (repeatable; absolute URL or
                        import-map name; a relative path is resolved from here)
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

/** Runs the worker CLI with `args`; resolves when it has stopped. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        nthreads: { type: "string" },
        nworkers: { type: "string", default: "1" },
        "memory-limit": { type: "string", default: "auto" },
        name: { type: "string" },
        resources: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        "auth-token-file": { type: "string" },
        "no-nanny": { type: "boolean", default: false },
        preload: { type: "string", multiple: true },
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
  if (positionals.length !== 1) {
    console.error(`give exactly one scheduler address\n\n${HELP}`);
    return 2;
  }
  let preload: string[] | undefined;
  try {
    preload = values.preload?.map(resolvePreload);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const scheduler = positionals[0];
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
  try {
    memoryLimit = parseMemoryLimit(values["memory-limit"], nworkers);
    resources = values.resources ? parseResources(values.resources) : undefined;
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const authToken = values["auth-token-file"]
    ? (await Deno.readTextFile(values["auth-token-file"])).trim()
    : undefined;
  const nameOf = (i: number) =>
    values.name === undefined ? undefined : nworkers > 1 ? `${values.name}-${i}` : values.name;
  const common = {
    scheduler,
    nthreads,
    memoryLimit,
    host: values.host,
    authToken,
    resources,
    preload,
  };

  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  // i5: each nanny tells the scheduler how its worker's process ended (for KilledWorker)
  let stopping = false;
  stopped.then(() => (stopping = true));
  const reports = new Set<Promise<void>>();
  const onStarted = (address: string, exited: Promise<string>) => {
    exited.then((how) => {
      if (stopping) return;
      const p = reportExit(scheduler, address, how, authToken);
      reports.add(p);
      p.finally(() => reports.delete(p));
    });
  };
  const onSignal = () => stop();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let exitCode = 0;
  try {
    if (values["no-nanny"]) {
      const workers = await Promise.all(
        Array.from({ length: nworkers }, (_, i) => Worker.start({ ...common, name: nameOf(i) })),
      );
      for (const w of workers) console.log(`Worker at: ${w.address}`);
      await Promise.race([stopped, ...workers.map((w) => w.closed)]);
      await Promise.all(workers.map((w) => w.close("stopped")));
    } else {
      const sup = new Supervisor({
        onGiveUp: (name, e) => {
          console.error(`gave up restarting worker ${name}: ${(e as Error)?.message}`);
          stop();
        },
        // i5: a worker retired or told to close by its scheduler ends for good; when none is
        // left, neither is the CLI
        onEvent: (ev) => {
          if (ev.type !== "exited") return;
          queueMicrotask(() => { // the supervisor sets the child's status after the event
            const live = sup.names().some((n) => /running|restarting/.test(sup.status(n) ?? ""));
            if (!live) stop();
          });
        },
      });
      const nannies = await Promise.all(
        Array.from(
          { length: nworkers },
          (_, i) =>
            sup.supervise(`${i}`, () => new Nanny({ ...common, name: nameOf(i), onStarted }), {
              restart: "transient", // exit 0 (retired, scheduler closed): not restarted (i5)
            }),
        ),
      );
      for (const n of nannies) console.log(`Worker at: ${n.workerAddress} (pid ${n.pid})`);
      await stopped;
      await sup.stop();
      await Promise.all(reports);
    }
  } catch (e) {
    console.error(`worker failed: ${(e as Error).message}`);
    exitCode = 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return exitCode;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
