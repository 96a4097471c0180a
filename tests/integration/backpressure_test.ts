// Backpressure: a client that stops reading while 800 results of 1 MB complete does not make
// the scheduler hold them. Past a bound of queued bytes, results stay on their workers, and the
// client fetches them from there when it reads again.
import assert from "node:assert/strict";
import { drain, root, spawnDeno, stop } from "./cli_process.ts";
import { readUntil, until } from "./helpers.ts";

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function completed(dashboard: string): Promise<number> {
  const text = await (await fetch(new URL("/metrics", dashboard))).text();
  return Number(/^dtask_tasks_completed_total (\d+)/m.exec(text)?.[1] ?? 0);
}

Deno.test("backpressure: a stalled client's 800 x 1 MB results stay on the workers", async () => {
  const sched = spawnDeno(["scheduler/main.ts", "--port", "0", "--dashboard-address", ":0"]);
  const workers = [];
  let client;
  try {
    const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
    const [, dashboard] = await readUntil(sched.lines, /^Dashboard at: (http\S+)$/);
    const w = spawnDeno(["worker/main.ts", address, "--nworkers", "2", "--nthreads", "1"]);
    workers.push(w);
    await readUntil(w.lines, /^Worker at: /);
    await readUntil(w.lines, /^Worker at: /);
    const before = rssMiB(sched.child.pid);
    client = spawnDeno([
      new URL("tests/fixtures/slow_reader_client.ts", root).pathname,
      address,
      "800",
    ]);
    await readUntil(client.lines, /^submitted$/);
    client.child.kill("SIGSTOP");
    try {
      await until(async () => (await completed(dashboard)) >= 800, "800 tasks done", 120_000);
      const during = rssMiB(sched.child.pid);
      assert.ok(
        during - before < 100,
        `the scheduler grew from ${before.toFixed(0)} to ${during.toFixed(0)} MiB`,
      );
    } finally {
      client.child.kill("SIGCONT");
    }
    const writer = client.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    writer.releaseLock();
    const [, right] = await readUntil(client.lines, /^right (\d+)$/);
    assert.equal(Number(right), 800);
    assert.equal((await drain(client)).code, 0, await client.errText);
    client = undefined;
  } finally {
    if (client) await stop(client);
    for (const w of workers) await stop(w);
    await stop(sched);
  }
});
