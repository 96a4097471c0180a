/**
 * The entry point of a worker process started by a nanny. Prints one JSON line with its
 * address once registered, and exits when the scheduler is gone, on SIGTERM/SIGINT, or when
 * its stdin closes (its parent died: Deno has no parent-death signal). The auth token and the
 * TLS material come in the environment (DTASK_AUTH_TOKEN, DTASK_TLS_*), never on the command line. Started by the worker command
 * line, it says on stderr why it stopped when its scheduler ended it (stop_reason.ts).
 */
import "../comm/msgpack_native.ts";
import { parseArgs } from "node:util";
import { Worker } from "./worker.ts";
import { AUTH_TOKEN_ENV } from "../comm/auth_token.ts";
import { tlsFromEnv } from "../comm/tls_files.ts";
import { stoppedLine } from "./stop_reason.ts";
import { TimeoutError } from "../core/errors.ts";
import {
  absoluteLocalDirectory,
  type CheckedMemoryOptions,
  checkMemoryOptions,
} from "./memory_config.ts";
import {
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_HEARTBEAT_INTERVAL,
  STOP_GRACE,
} from "../comm/timeouts.ts";

const { values } = parseArgs({
  options: {
    scheduler: { type: "string" },
    nthreads: { type: "string", default: "1" },
    name: { type: "string" },
    "memory-limit": { type: "string", default: "0" },
    "memory-target": { type: "string" },
    "memory-spill": { type: "string" },
    "memory-pause": { type: "string" },
    "memory-terminate": { type: "string" },
    "max-spill": { type: "string" },
    "local-directory": { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "contact-address": { type: "string" },
    "silence-logs": { type: "boolean", default: false },
    resources: { type: "string" },
    preload: { type: "string", multiple: true },
    "connect-timeout": { type: "string", default: String(DEFAULT_CONNECT_TIMEOUT) },
    "death-timeout": { type: "string" },
    "heartbeat-interval": { type: "string", default: String(DEFAULT_HEARTBEAT_INTERVAL) },
    nanny: { type: "boolean", default: false },
    "stop-lines": { type: "boolean", default: false },
  },
});

if (!values.scheduler) {
  console.error("worker/process.ts: --scheduler is required");
  Deno.exit(2);
}

let memory: CheckedMemoryOptions;
try {
  memory = absoluteLocalDirectory(checkMemoryOptions({
    memoryTarget: values["memory-target"],
    memorySpill: values["memory-spill"],
    memoryPause: values["memory-pause"],
    memoryTerminate: values["memory-terminate"],
    maxSpill: values["max-spill"],
    localDirectory: values["local-directory"],
  }, "flag"));
} catch (e) {
  console.error(`worker/process.ts: ${(e as Error).message}`);
  Deno.exit(2);
}

const deathTimeout = values["death-timeout"] === undefined
  ? undefined
  : Number(values["death-timeout"]);

const worker = await Worker.start({
  scheduler: values.scheduler,
  nthreads: Number(values.nthreads),
  name: values.name,
  memoryLimit: Number(values["memory-limit"]),
  ...memory,
  host: values.host,
  contactAddress: values["contact-address"],
  authToken: Deno.env.get(AUTH_TOKEN_ENV) || undefined,
  tls: tlsFromEnv(),
  silenceLogs: values["silence-logs"],
  resources: values.resources ? JSON.parse(values.resources) : undefined,
  preload: values.preload,
  connectTimeout: Number(values["connect-timeout"]),
  deathTimeout: deathTimeout,
  heartbeatInterval: Number(values["heartbeat-interval"]),
  nanny: values.nanny,
}).catch((e) => {
  // past the death timeout its nanny says so, for every process it started
  if (!(deathTimeout !== undefined && e instanceof TimeoutError)) {
    console.error(`worker could not start: ${e.message}`);
  }
  Deno.exit(1);
});

/** Why this process stopped the worker itself (a signal, its parent gone): its nanny knows. */
let ownReason: string | undefined;
const stop = (why: string) => {
  ownReason ??= why;
  void worker.close(why);
};
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
(async () => {
  const buf = new Uint8Array(64);
  try {
    while ((await Deno.stdin.read(buf)) !== null) { /* the parent writes nothing */ }
  } catch { /* closed */ }
  stop("parent process gone (stdin closed)");
})();

await Deno.stdout.write(
  new TextEncoder().encode(JSON.stringify({ address: worker.address, pid: Deno.pid }) + "\n"),
);
// A thread stuck in a synchronous loop cannot be terminated: the process exit stops it.
void worker.closeStarted.then(() => {
  Deno.unrefTimer(setTimeout(() => Deno.exit(worker.exitCode), STOP_GRACE));
});
const reason = await worker.closed;
if (reason !== ownReason && values["stop-lines"]) {
  const line = stoppedLine(worker.name, worker.address, reason);
  if (line) console.error(line);
}
Deno.exit(worker.exitCode);
