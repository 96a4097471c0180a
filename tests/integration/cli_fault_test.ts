// The worker CLI's nannies report how their worker processes ended (issue 5), so a KilledWorker
// from a scheduler in another process still names the signal; a retired worker is not restarted.
import assert from "node:assert/strict";
import { Client, KilledWorker, Scheduler } from "../../mod.ts";
import { TextLineStream } from "../../worker/lines.ts";
import { readUntil, until } from "./helpers.ts";

const root = new URL("../../", import.meta.url);
const config = new URL("deno.json", root).pathname;

function spawnWorkerCli(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", "--config", config, new URL("worker/main.ts", root).href, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream())
    [Symbol.asyncIterator]();
  const errText = new Response(child.stderr).text();
  return { child, lines, errText };
}

async function stopCli(p: ReturnType<typeof spawnWorkerCli>): Promise<Deno.CommandStatus> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* gone */ }
  const status = await p.child.status;
  for (;;) if ((await p.lines.next()).done) break;
  await p.errText;
  try {
    await p.child.stdin.close();
  } catch { /* closed */ }
  return status;
}

// dask: test_bad_tasks_fail (with a nanny in another process)
Deno.test("worker CLI: its nanny tells the scheduler the signal that killed the worker", async () => {
  const scheduler = await Scheduler.start({
    dashboardAddress: null,
    config: { allowedFailures: 0 },
  });
  const cli = spawnWorkerCli([scheduler.address, "--nthreads", "1", "--name", "cli"]);
  try {
    await readUntil(cli.lines, /^Worker at: tcp:\/\//);
    await using client = await Client.connect(scheduler.address);
    const f = client.with({ key: "suicide-2" }).submit(() => {
      Deno.kill(Deno.pid, "SIGKILL");
      return 0;
    });
    const e = await f.then(() => null, (e) => e);
    assert.ok(e instanceof KilledWorker, String(e));
    assert.match(e.message, /'suicide-2' on 1 different workers/);
    assert.match(e.message, /killed by signal SIGKILL/);
    // the nanny restarted it; retiring it ends it for good and the CLI with it
    await until(() => scheduler.nWorkers === 1, "the restarted worker");
    await client.retireWorkers(["cli"]);
    const status = await cli.child.status;
    assert.equal(status.code, 0);
  } finally {
    await stopCli(cli);
    await scheduler.close();
  }
});
