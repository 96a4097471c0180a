/** Helpers for tests that run dtask's command lines as child processes. */
import { TextLineStream } from "../../worker/lines.ts";

/** The project's root URL. */
export const root = new URL("../../", import.meta.url);
/** The project's deno.json, which child processes run with. */
export const config = new URL("deno.json", root).pathname;

/** A running child process: its stdout and stderr as lines, and its stderr as one text at the end. */
export interface CliProcess {
  child: Deno.ChildProcess;
  lines: AsyncIterator<string>;
  /** Its stderr line by line (errText has all of it too). */
  errLines: AsyncIterator<string>;
  errText: Promise<string>;
}

const toLines = (s: ReadableStream<Uint8Array>) =>
  s.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream())[Symbol.asyncIterator]();

/** Runs `deno run -A -q --config deno.json ...args` (with `env` added to this environment). */
export function spawnDeno(args: string[], env?: Record<string, string>): CliProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", "--config", config, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const [forText, forLines] = child.stderr.tee();
  return {
    child,
    lines: toLines(child.stdout),
    errLines: toLines(forLines),
    errText: new Response(forText).text(),
  };
}

/** Waits for the process to end and reads what is left of its output; returns its status. */
export async function drain(p: CliProcess): Promise<Deno.CommandStatus> {
  const status = await p.child.status;
  for (;;) if ((await p.lines.next()).done) break;
  for (;;) if ((await p.errLines.next()).done) break;
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

/** The process ids of `pid`'s children (from /proc: Linux only). */
export function childPids(pid: number): number[] {
  const pids: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
      pids.push(...text.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch { /* it is gone */ }
  return pids;
}

/** Resolves true once the process has ended, false if `ms` pass first. */
export async function endsWithin(p: CliProcess, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.child.status.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The scheduler CLI's arguments: any free port, no dashboard, then `extra`. */
export function schedulerArgs(extra: string[] = []): string[] {
  return [new URL("scheduler/main.ts", root).href, "--port", "0", "--dashboard-address", "none"]
    .concat(extra);
}
