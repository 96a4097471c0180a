/**
 * The command line a nanny starts its worker process with. The auth token is not on it: a
 * command line is public (`ps`); it travels in the environment.
 *
 * @module
 */
import { AUTH_TOKEN_ENV } from "../comm/auth_token.ts";
import type { NannyOptions } from "./nanny.ts";

const PROCESS_ENTRY = new URL("./process.ts", import.meta.url);
const CONFIG = new URL("../deno.json", import.meta.url);

/** The `Deno.Command` that starts the worker process `o` describes. */
export function workerCommand(o: NannyOptions): Deno.Command {
  // --expose-gc: the worker reclaims a large value's memory as soon as it drops it
  // (worker/collect_garbage.ts)
  const args = ["run", "-A", "-q", "--v8-flags=--expose-gc"];
  if (CONFIG.protocol === "file:") args.push("--config", decodeURIComponent(CONFIG.pathname));
  args.push(PROCESS_ENTRY.href, `--scheduler=${o.scheduler}`, `--nthreads=${o.nthreads}`);
  if (o.name !== undefined) args.push(`--name=${o.name}`);
  if (o.memoryLimit) args.push(`--memory-limit=${o.memoryLimit}`);
  if (o.host) args.push(`--host=${o.host}`);
  if (o.contactAddress) args.push(`--contact-address=${o.contactAddress}`);
  if (o.deathTimeout !== undefined) args.push(`--death-timeout=${Math.ceil(o.deathTimeout)}`);
  if (o.silenceLogs) args.push("--silence-logs");
  if (o.resources) args.push(`--resources=${JSON.stringify(o.resources)}`);
  for (const url of o.preload ?? []) args.push(`--preload=${url}`);
  if (o.heartbeatInterval) args.push(`--heartbeat-interval=${o.heartbeatInterval}`);
  if (o.onStarted) args.push("--nanny"); // someone reports how it ends
  return new Deno.Command(Deno.execPath(), {
    args,
    ...(o.authToken && { env: { [AUTH_TOKEN_ENV]: o.authToken } }),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  });
}
