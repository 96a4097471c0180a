/** Helpers for tests that run dtask's command lines as child processes. */
import { TextLineStream } from "../../worker/lines.ts";

/** The project's root URL. */
export const root = new URL("../../", import.meta.url);
/** The project's deno.json, which child processes run with. */
export const config = new URL("deno.json", root).pathname;

/** A running child process: its stdout as lines, its stderr as one text at the end. */
export interface CliProcess {
  child: Deno.ChildProcess;
  lines: AsyncIterator<string>;
  errText: Promise<string>;
}

/** Runs `deno run -A -q --config deno.json ...args`, with stdout read line by line. */
export function spawnDeno(args: string[]): CliProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", "--config", config, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream())
    [Symbol.asyncIterator]();
  const errText = new Response(child.stderr).text();
  return { child, lines, errText };
}

/** Waits for the process to end and reads what is left of its output; returns its status. */
export async function drain(p: CliProcess): Promise<Deno.CommandStatus> {
  const status = await p.child.status;
  for (;;) if ((await p.lines.next()).done) break;
  await p.errText;
  try {
    await p.child.stdin.close();
  } catch { /* closed */ }
  return status;
}

/** Sends SIGTERM (if it still runs), then drains it; returns its status. */
export function stop(p: CliProcess): Promise<Deno.CommandStatus> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* gone */ }
  return drain(p);
}
