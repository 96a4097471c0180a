// --scheduler-file: the scheduler command writes its address to a file, the worker command and
// clients read it from there (as Dask's), and the file goes when the scheduler stops.
import assert from "node:assert/strict";
import { Client, readSchedulerFile, schedulerAddressFromFile, TimeoutError } from "../../mod.ts";
import {
  config,
  drain,
  endsWithin,
  root,
  schedulerArgs,
  spawnDeno as spawn,
} from "./cli_process.ts";
import { readUntil } from "./helpers.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("--scheduler-file: the scheduler writes it, a worker and a client read it, SIGTERM removes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dtask-scheduler-file-" });
  const file = `${dir}/scheduler.json`;
  try {
    // the worker starts first: it waits for the file to appear
    const worker = spawn([new URL("worker/main.ts", root).href, "--scheduler-file", file]);
    await readUntil(worker.lines, /^Waiting for the scheduler file /);
    const sched = spawn([
      new URL("scheduler/main.ts", root).href,
      "--port",
      "0",
      "--dashboard-address",
      "127.0.0.1:0",
      "--scheduler-file",
      file,
    ]);
    const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
    const [, dashboard] = await readUntil(sched.lines, /^Dashboard at: (http:\/\/\S+)$/);

    const content = await readSchedulerFile(file);
    assert.equal(content.type, "Scheduler");
    assert.match(content.id, /^Scheduler-/);
    assert.equal(content.address, address);
    assert.equal(content.services.dashboard, Number(new URL(dashboard).port));
    assert.equal(typeof content.started, "number");

    await readUntil(worker.lines, /^Worker at: tcp:\/\//);
    {
      await using client = await Client.connect(await schedulerAddressFromFile(file));
      assert.equal(client.schedulerAddress, address);
      await client.waitForWorkers(1, { timeout: 30_000 });
      assert.equal(await client.submit((x: number) => x * 2, 21), 42);
    }

    worker.child.kill("SIGTERM");
    assert.ok(await endsWithin(worker, 3000), "the worker still runs 3 s after SIGTERM");
    assert.equal((await drain(worker)).code, 0);
    sched.child.kill("SIGTERM");
    assert.equal((await drain(sched)).code, 0);
    assert.equal(
      await exists(file),
      false,
      "the scheduler file is still there after the scheduler stopped",
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "a temporary file was left next to it");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("schedulerAddressFromFile: no file, or one that is not a scheduler's, is a TimeoutError that says so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dtask-scheduler-file-" });
  try {
    const missing = `${dir}/none.json`;
    await assert.rejects(
      schedulerAddressFromFile(missing, { timeout: 200 }),
      (e: Error) =>
        e instanceof TimeoutError && e.message.includes(missing) &&
        e.message.includes("does not exist") && e.message.includes("--scheduler-file"),
    );
    const notJson = `${dir}/half.json`;
    await Deno.writeTextFile(notJson, '{"type": "Sched');
    await assert.rejects(
      schedulerAddressFromFile(notJson, { timeout: 200 }),
      (e: Error) => e instanceof TimeoutError && e.message.includes("not JSON"),
    );
    const noAddress = `${dir}/other.json`;
    await Deno.writeTextFile(noAddress, '{"type": "Scheduler"}');
    await assert.rejects(
      schedulerAddressFromFile(noAddress, { timeout: 200 }),
      (e: Error) => e instanceof TimeoutError && e.message.includes("no scheduler address"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("schedulerAddressFromFile: an abort stops the wait", async () => {
  const stop = new AbortController();
  const read = schedulerAddressFromFile("/nonexistent/dtask/scheduler.json", {
    signal: stop.signal,
  });
  stop.abort(new Error("enough"));
  await assert.rejects(read, /enough/);
});

Deno.test("worker CLI: an address and --scheduler-file together are refused", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "-q",
      "--config",
      config,
      new URL("worker/main.ts", root).href,
      "tcp://127.0.0.1:1",
      "--scheduler-file",
      "/nonexistent/scheduler.json",
    ],
    stdin: "null",
  }).output();
  assert.equal(out.code, 2);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /give exactly one scheduler address or --scheduler-file/,
  );
});

Deno.test("worker CLI: SIGTERM while it waits for the scheduler file stops it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dtask-scheduler-file-" });
  try {
    const worker = spawn([
      new URL("worker/main.ts", root).href,
      "--scheduler-file",
      `${dir}/s.json`,
    ]);
    await readUntil(worker.lines, /^Waiting for the scheduler file /);
    worker.child.kill("SIGTERM");
    assert.ok(await endsWithin(worker, 3000), "still waiting 3 s after SIGTERM");
    assert.equal((await drain(worker)).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scheduler CLI: a scheduler file it cannot write stops it with a clear message", async () => {
  const sched = spawn(schedulerArgs(["--scheduler-file", "/nonexistent/dtask/scheduler.json"]));
  const status = await drain(sched);
  assert.equal(status.code, 2);
  assert.match(
    await sched.errText,
    /--scheduler-file: cannot write \/nonexistent\/dtask\/scheduler\.json/,
  );
});
