// --death-timeout: a worker command whose scheduler cannot be reached gives up and says so; and
// SIGTERM stops a worker command at once while it is still trying to reach its scheduler.
import assert from "node:assert/strict";
import { childPids, endsWithin, root, schedulerArgs, spawnDeno, stop } from "./cli_process.ts";
import { alive, readUntil, until } from "./helpers.ts";

const WORKER = new URL("worker/main.ts", root).href;

/** A tcp:// address where nothing listens. */
function deadAddress(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return `tcp://127.0.0.1:${port}`;
}

const goneLine = (name: string, address: string, seconds: number) =>
  `Worker ${name}: the scheduler at ${address} was gone for more than ${seconds} s ` +
  `(--death-timeout); exiting`;

Deno.test("worker CLI: --death-timeout 2s with no scheduler: it exits by itself, saying why", async () => {
  const address = deadAddress();
  const cli = spawnDeno([WORKER, address, "--name", "w", "--death-timeout", "2s"]);
  try {
    assert.ok(await endsWithin(cli, 20_000), "it did not exit by itself");
  } finally {
    const status = await stop(cli);
    assert.equal(status.code, 1);
    assert.ok((await cli.errText).includes(goneLine("w", address, 2)), await cli.errText);
  }
});

Deno.test("worker CLI: its scheduler killed, it exits past the death timeout", async () => {
  const sched = spawnDeno(schedulerArgs());
  const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
  const cli = spawnDeno([
    WORKER,
    address,
    "--nworkers",
    "2",
    "--name",
    "w",
    "--death-timeout",
    "1",
  ]);
  try {
    await readUntil(cli.lines, /^Worker at: /);
    await readUntil(cli.lines, /^Worker at: /);
    const workerPids = childPids(cli.child.pid);
    assert.equal(workerPids.length, 2);
    sched.child.kill("SIGKILL");
    assert.ok(await endsWithin(cli, 20_000), "it did not exit by itself");
    await until(() => workerPids.every((pid) => !alive(pid)), "its worker processes to end", 5000);
  } finally {
    await stop(sched);
    const status = await stop(cli);
    assert.equal(status.code, 1);
    const err = await cli.errText;
    for (const name of ["w-0", "w-1"]) assert.ok(err.includes(goneLine(name, address, 1)), err);
  }
});

for (const nanny of [true, false]) {
  const how = nanny ? "with nannies" : "--no-nanny";
  Deno.test(`worker CLI (${how}): SIGTERM while it retries its scheduler ends it within 3 s`, async () => {
    const cli = spawnDeno([
      WORKER,
      deadAddress(),
      "--nworkers",
      "2",
      "--name",
      "w",
      ...(nanny ? [] : ["--no-nanny"]),
    ]);
    try {
      await readUntil(cli.errLines, /^\[worker\] w-\d: cannot reach the scheduler .* yet/);
      const workerPids = childPids(cli.child.pid);
      assert.equal(workerPids.length, nanny ? 2 : 0);
      cli.child.kill("SIGTERM");
      assert.ok(await endsWithin(cli, 3000), "still running 3 s after SIGTERM");
      await until(
        () => workerPids.every((pid) => !alive(pid)),
        "its worker processes to end",
        3000,
      );
    } finally {
      assert.equal((await stop(cli)).code, 0);
    }
  });
}
