// What the command lines say, as Dask's do: the scheduler logs clients arriving and leaving; a
// worker command says where it connects at once and where a restarted worker listens now (on
// stdout), and why it stops (on stderr); on 0.0.0.0 every printed address is one another
// machine can dial.
import assert from "node:assert/strict";
import { Client } from "../../mod.ts";
import { type CliProcess, drain, root, schedulerArgs, spawnDeno, stop } from "./cli_process.ts";
import { readUntil, until } from "./helpers.ts";

const WORKER = new URL("worker/main.ts", root).href;

/** Collects a stream's lines into `into` in the background; resolves when it ends. */
async function collect(lines: AsyncIterator<string>, into: string[]): Promise<void> {
  for (let r = await lines.next(); !r.done; r = await lines.next()) into.push(r.value);
}

Deno.test("scheduler CLI: logs each client connecting and leaving", async () => {
  const sched = spawnDeno(schedulerArgs());
  const err: string[] = [];
  const reading = collect(sched.errLines, err);
  try {
    const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
    const client = await Client.connect(address);
    const id = client.id;
    await until(() => err.some((l) => l.includes(`Receive client connection: ${id}`)), "arrival");
    await client.close();
    await until(() => err.some((l) => l.includes(`Remove client ${id}`)), "departure");
  } finally {
    assert.equal((await stop(sched)).code, 0);
    await reading;
  }
});

for (const how of ["nanny", "no-nanny"] as const) {
  Deno.test(`worker CLI (${how}): says where it connects, where it restarted, and why it stops`, async () => {
    const sched = spawnDeno(schedulerArgs());
    let worker: CliProcess | undefined;
    try {
      const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
      const extra = how === "no-nanny" ? ["--no-nanny"] : [];
      worker = spawnDeno([WORKER, address, "--nthreads", "1", "--name", "w", ...extra]);
      const seen: string[] = [];
      const [, first] = await readUntil(worker.lines, /^Worker at: (tcp:\/\/\S+)/, seen);
      assert.equal(seen[0], `Waiting to connect to ${address}`);
      {
        await using client = await Client.connect(address);
        await client.restart();
        const [, again] = await readUntil(worker.lines, /^Worker w restarted at (tcp:\/\/\S+)/);
        assert.notEqual(again, first);
        assert.deepEqual(Object.keys((await client.schedulerInfo()).workers), [again]);
      }
      sched.child.kill("SIGTERM");
      await readUntil(worker.errLines, /^Worker w .*stopped: the scheduler closed$/);
      assert.equal((await drain(worker)).code, 0);
    } finally {
      if (worker) await stop(worker);
      await stop(sched);
    }
  });
}

Deno.test("worker CLI: says which signal stopped it", async () => {
  const sched = spawnDeno(schedulerArgs());
  let worker: CliProcess | undefined;
  try {
    const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
    worker = spawnDeno([WORKER, address, "--nthreads", "1"]);
    await readUntil(worker.lines, /^Worker at: /);
    worker.child.kill("SIGTERM");
    const err: string[] = [];
    await collect(worker.errLines, err);
    assert.ok(err.includes("Stopping: signal SIGTERM"), err.join("\n"));
    // its worker process was stopped by this command, which said why: no line of its own
    assert.ok(!err.some((l) => /stopped:/.test(l)), err.join("\n"));
  } finally {
    if (worker) await stop(worker);
    await stop(sched);
  }
});

Deno.test("CLIs on 0.0.0.0: the scheduler's and the dashboard's printed addresses are dialable", async () => {
  const sched = spawnDeno([
    new URL("scheduler/main.ts", root).href,
    "--host",
    "0.0.0.0",
    "--port",
    "0",
    "--dashboard-address",
    ":0",
  ]);
  try {
    const [, , host] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/(.+):\d+)$/);
    const [, link, dhost] = await readUntil(
      sched.lines,
      /^Dashboard at: (http:\/\/(.+):\d+\/status)$/,
    );
    assert.notEqual(host, "0.0.0.0");
    assert.equal(dhost, host, "the dashboard is shown on the host the scheduler is");
    const r = await fetch(link.replace("/status", "/health"));
    assert.equal(await r.text(), "ok");
  } finally {
    await stop(sched);
  }
});
