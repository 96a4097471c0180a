/**
 * The scheduler command line (Dask's `dask scheduler`):
 *
 * ```sh
 * deno run -A jsr:@x/dtask/scheduler --port 8786 --dashboard-address :8787 --scheduler-file sched.json
 * ```
 *
 * It prints `Scheduler at: tcp://…` and `Dashboard at: http://…`, and stops cleanly on SIGINT or
 * SIGTERM. Workers connect with `deno run -A jsr:@x/dtask/worker tcp://host:8786` (or
 * `--scheduler-file sched.json`), clients with `Client.connect("tcp://host:8786")`. Its options,
 * as `--help` prints them:
 *
 * - `--host H`: interface to listen on (default 127.0.0.1; 0.0.0.0: all)
 * - `--port N`: TCP port (default 8786; 0 = any free port)
 * - `--contact-address A`: the address workers and clients are told to dial, `tcp://host[:port]`
 *   (default: the listen address; with `--host 0.0.0.0`, this machine's first non-loopback IPv4
 *   address)
 * - `--dashboard-address A`: HTTP server for the dashboard, `/health`, `/metrics` (default :8787;
 *   "none" to disable)
 * - `--dashboard-prefix P`: serve every dashboard route under path P, e.g. /dask for
 *   /dask/status (behind a proxy)
 * - `--dashboard-token`: with an auth token, every dashboard page needs it too (without, only
 *   the live feed does)
 * - `--auth-token-file F`: require the token in file F from every worker and client (or set
 *   `DTASK_AUTH_TOKEN`)
 * - `--ws-port N`: also listen for clients over WebSocket on port N (0: any free port)
 * - `--tls-cert F --tls-key F`: listen with TLS alone (the address becomes tls://, the
 *   WebSocket address wss://);
 *   `--tls-ca-file F`: the cluster's CA certificates (accepted for symmetry with the worker)
 * - `--worker-saturation X`: root tasks per thread before queuing (default 1.1; inf = off)
 * - `--no-work-stealing`: idle workers do not take tasks assigned to busy ones
 * - `--worker-ttl MS`: remove a worker not heard from for this long (default 300000)
 * - `--scheduler-file F`: write the address (JSON, as Dask's) to file F once listening, for
 *   workers and clients to read (`schedulerAddressFromFile`); removed on exit
 * - `--preload URL`: module every worker imports, also workers that join later (repeatable)
 * - `--version`, `-h` / `--help`
 *
 * Imported as a module it runs nothing: {@link main} runs the command with given arguments.
 * @module
 */
import "../comm/msgpack_native.ts";
import { parseArgs } from "node:util";
import { Scheduler } from "./scheduler.ts";
import { AUTH_TOKEN_ENV, readAuthToken } from "../comm/auth_token.ts";
import { parseContactAddress } from "../comm/contact_address.ts";
import { exposureWarning } from "../comm/exposure.ts";
import { readTlsFiles } from "../comm/tls_files.ts";
import type { TlsOptions } from "../comm/tls_options.ts";
import { normalizeDashboardPrefix } from "../dashboard/prefix.ts";
import { removeSchedulerFile, writeSchedulerFile } from "../cluster/scheduler_file.ts";
import denoJson from "../deno.json" with { type: "json" };

const HELP = `Usage: deno run -A jsr:@x/dtask/scheduler [options]

Starts a dtask scheduler; workers and clients connect to its tcp:// (or tls://) address,
and with --ws-port clients (browsers, Deno Deploy, client/mod.ts) also to its ws:// address
(wss:// with --tls-cert).

Options:
  --host H                 interface to listen on (default 127.0.0.1; 0.0.0.0: all)
  --port N                 TCP port (default 8786; 0 = any free port)
  --contact-address A      the address workers and clients are told to dial, tcp://host[:port]
                           (default: the listen address; with --host 0.0.0.0, this machine's
                           first non-loopback IPv4 address)
  --dashboard-address A    HTTP server for the dashboard, /health, /metrics (default :8787; "none"
                           to disable)
  --dashboard-token        with an auth token: every dashboard page needs it too (without: only
                           the live feed does; open pages as …/status?token=<token>)
  --dashboard-prefix P     serve every dashboard route under path P, e.g. /dask for /dask/status
                           (behind a proxy; default none)
  --auth-token-file F      require the token in file F from every worker and client (or set
                           ${AUTH_TOKEN_ENV})
  --ws-port N              also listen for clients over WebSocket on port N (0 = any free port;
                           default: no WebSocket listener); the same handshake and token as TCP
  --tls-cert F --tls-key F listen with TLS alone, presenting the certificate (PEM) in F and its
                           private key; the address becomes tls://host:port (and the
                           --ws-port one wss://host:port)
  --tls-ca-file F          the CA certificates (PEM) of the cluster (accepted for symmetry with
                           the worker command; clients and workers need it)
  --worker-saturation X    root tasks per thread before queuing (default 1.1; inf = off)
  --no-work-stealing       idle workers do not take tasks assigned to busy ones
  --worker-ttl MS          remove a worker not heard from for this long (default 300000)
  --scheduler-file F       write the address (JSON, as Dask's) to file F once listening, for
                           workers and clients to read; removed on exit
  --preload URL            module every worker imports, also workers that join later
                           (repeatable; absolute URL or import-map name; paths resolved)
  --version                print the version
  -h, --help               this text`;

/** Runs the scheduler CLI with `args`; resolves when it has stopped. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        host: { type: "string", default: "127.0.0.1" },
        "contact-address": { type: "string" },
        port: { type: "string", default: "8786" },
        "dashboard-address": { type: "string", default: ":8787" },
        "dashboard-prefix": { type: "string" },
        "dashboard-token": { type: "boolean", default: false },
        "auth-token-file": { type: "string" },
        "ws-port": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca-file": { type: "string" },
        preload: { type: "string", multiple: true },
        "scheduler-file": { type: "string" },
        "worker-saturation": { type: "string" },
        "no-work-stealing": { type: "boolean", default: false },
        "worker-ttl": { type: "string" },
        version: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.version) {
    console.log(`dtask ${denoJson.version}`);
    return 0;
  }
  const preload: string[] = [];
  for (const s of values.preload ?? []) {
    if (/^(\.{0,2}\/)/.test(s)) preload.push(new URL(s, `file://${Deno.cwd()}/`).href);
    else if (URL.canParse(s)) preload.push(s);
    else {
      console.error(`--preload: not a module URL or path: ${s}`);
      return 2;
    }
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, got ${values.port}`);
    return 2;
  }
  const wsPort = values["ws-port"] === undefined ? null : Number(values["ws-port"]);
  if (wsPort !== null && !(Number.isInteger(wsPort) && wsPort >= 0 && wsPort <= 65535)) {
    console.error(`--ws-port must be a port number, got ${values["ws-port"]}`);
    return 2;
  }
  let authToken: string | undefined;
  let tls: TlsOptions | undefined;
  try {
    if (values["contact-address"] !== undefined) parseContactAddress(values["contact-address"]);
    authToken = await readAuthToken(values["auth-token-file"]);
    tls = await readTlsFiles({
      cert: values["tls-cert"],
      key: values["tls-key"],
      caFile: values["tls-ca-file"],
    });
    if (tls !== undefined && tls.cert === undefined) {
      throw new TypeError(
        "--tls-ca-file alone does not turn TLS on: give --tls-cert and --tls-key",
      );
    }
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const warning = exposureWarning(values.host, {
    who: wsPort === null ? "the scheduler" : "the scheduler (TCP and WebSocket)",
    authToken,
    tls,
    fix: `Use --auth-token-file or ${AUTH_TOKEN_ENV}.`,
  });
  if (warning) console.warn(warning);
  const dash = values["dashboard-address"];
  const sat = values["worker-saturation"];
  const workerSaturation = sat === undefined
    ? undefined
    : /^inf/i.test(sat)
    ? Infinity
    : Number(sat);
  if (workerSaturation !== undefined && !(workerSaturation > 0)) {
    console.error(`--worker-saturation must be a positive number or inf, got ${sat}`);
    return 2;
  }
  const ttl = values["worker-ttl"] === undefined ? undefined : Number(values["worker-ttl"]);
  if (ttl !== undefined && !(ttl > 0)) {
    console.error(`--worker-ttl must be a positive number of ms, got ${values["worker-ttl"]}`);
    return 2;
  }
  let dashboardPrefix: string;
  try {
    dashboardPrefix = normalizeDashboardPrefix(values["dashboard-prefix"]);
  } catch (e) {
    console.error(`--dashboard-prefix: ${(e as Error).message}`);
    return 2;
  }
  const scheduler = await Scheduler.start({
    dashboardPrefix,
    dashboardToken: values["dashboard-token"],
    workerTtl: ttl,
    host: values.host,
    contactAddress: values["contact-address"],
    port,
    wsPort,
    dashboardAddress: dash === "none" || dash === "" ? null : dash,
    authToken,
    tls,
    verbose: true,
    config: {
      ...(workerSaturation !== undefined && { workerSaturation }),
      ...(values["no-work-stealing"] && { workStealing: false }),
    },
    preload,
  });
  console.log(`Scheduler at: ${scheduler.address}`);
  if (scheduler.wsAddress) console.log(`WebSocket at: ${scheduler.wsAddress}`);
  if (scheduler.dashboardLink) console.log(`Dashboard at: ${scheduler.dashboardLink}`);
  const schedulerFile = values["scheduler-file"];
  if (schedulerFile !== undefined) {
    try {
      await writeSchedulerFile(schedulerFile, scheduler);
    } catch (e) {
      console.error(`--scheduler-file: cannot write ${schedulerFile}: ${(e as Error).message}`);
      await scheduler.close();
      return 2;
    }
  }
  const { promise, resolve } = Promise.withResolvers<void>();
  const stop = () => resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await promise;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  // gone first, so that no worker or client starting now reads an address about to close
  if (schedulerFile !== undefined) await removeSchedulerFile(schedulerFile).catch(() => {});
  await scheduler.close();
  console.log("Scheduler closed");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
