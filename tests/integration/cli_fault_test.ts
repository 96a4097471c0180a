// The worker CLI's nannies report how their worker processes ended, so a KilledWorker
// from a scheduler in another process still names the signal; a retired worker is not restarted.
import assert from "node:assert/strict";
import { Client, KilledWorker, Scheduler } from "../../mod.ts";
import { root, spawnDeno, stop as stopCli } from "./cli_process.ts";
import { readUntil, until } from "./helpers.ts";

const spawnWorkerCli = (args: string[]) =>
  spawnDeno([new URL("worker/main.ts", root).href, ...args]);

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
