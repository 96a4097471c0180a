// The scheduler and worker command lines, and what happens when a cluster's owner is killed.
import assert from "node:assert/strict";
import { Client, getWorker } from "../../mod.ts";
import {
  config,
  drain,
  endsWithin,
  root,
  schedulerArgs,
  spawnDeno as spawn,
} from "./cli_process.ts";
import { alive, readUntil, until } from "./helpers.ts";

Deno.test("--help and --version answer on both commands", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(config));
  for (const cmd of ["scheduler/main.ts", "worker/main.ts"]) {
    const run = (flag: string) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "-q", "--config", config, new URL(cmd, root).href, flag],
      }).output();
    const help = await run("--help");
    assert.equal(help.code, 0);
    assert.match(new TextDecoder().decode(help.stdout), /Usage:[^]*--contact-address/);
    const v = await run("--version");
    assert.equal(v.code, 0);
    assert.equal(new TextDecoder().decode(v.stdout), `dtask ${version}\n`);
  }
});

Deno.test("scheduler and worker CLIs: run work, stop cleanly on SIGTERM", async () => {
  const sched = spawn(schedulerArgs());
  const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
  const worker = spawn([
    new URL("worker/main.ts", root).href,
    address,
    "--nthreads",
    "1",
    "--nworkers",
    "2",
    "--name",
    "w",
  ]);
  await readUntil(worker.lines, /^Worker at: tcp:\/\//);
  await readUntil(worker.lines, /^Worker at: tcp:\/\//);
  {
    await using client = await Client.connect(address);
    const info = await client.schedulerInfo();
    assert.deepEqual(Object.values(info.workers).map((w) => w.name).sort(), ["w-0", "w-1"]);
    assert.deepEqual(await client.gather(client.map((x: number) => -x, [1, 2, 3])), [-1, -2, -3]);
  }
  worker.child.kill("SIGTERM");
  assert.ok(await endsWithin(worker, 3000), "still running 3 s after SIGTERM");
  assert.equal((await drain(worker)).code, 0);
  sched.child.kill("SIGTERM");
  assert.equal((await drain(sched)).code, 0);
});

Deno.test("worker CLI: a memory threshold that is not a fraction stops it with a clear message", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "-q",
      "--config",
      config,
      new URL("worker/main.ts", root).href,
      "tcp://127.0.0.1:1",
      "--memory-pause",
      "1.5",
    ],
    stdin: "null",
  }).output();
  assert.equal(out.code, 2);
  assert.equal(
    new TextDecoder().decode(out.stderr).trim(),
    "--memory-pause must be a fraction of --memory-limit greater than 0 and at most 1 (such as " +
      "0.8), or false to turn pausing off; got 1.5",
  );
  assert.equal(new TextDecoder().decode(out.stdout), "", "it started nothing");
});

Deno.test("worker CLI: an empty --local-directory stops it with a clear message", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "-q",
      "--config",
      config,
      new URL("worker/main.ts", root).href,
      "tcp://127.0.0.1:1",
      "--local-directory",
      "",
    ],
    stdin: "null",
  }).output();
  assert.equal(out.code, 2);
  assert.equal(
    new TextDecoder().decode(out.stderr).trim(),
    "--local-directory must be a directory path (a string) under which each worker makes its " +
      'spill directory; leave it out for <TMPDIR or /tmp>/dtask-scratch; got ""',
  );
  assert.equal(new TextDecoder().decode(out.stdout), "", "it started nothing");
});

Deno.test("worker CLI: the memory flags reach the worker process its nanny starts", async () => {
  // the worker process must accept --local-directory from its nanny, or it does not start
  const local = await Deno.makeTempDir({ prefix: "dtask-cli-local-" });
  const sched = spawn(schedulerArgs());
  const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
  const worker = spawn([
    new URL("worker/main.ts", root).href,
    address,
    "--nthreads=1",
    "--memory-limit=400MiB",
    "--memory-target=0.5",
    "--memory-pause=false",
    "--max-spill=1GiB",
    `--local-directory=${local}`,
  ]);
  try {
    await readUntil(worker.lines, /^Worker at: tcp:\/\//);
    await using client = await Client.connect(address);
    const MiB = 2 ** 20;
    assert.deepEqual(await client.submit(() => getWorker().memory), {
      limit: 400 * MiB,
      target: 200 * MiB,
      spill: Math.floor(0.7 * 400 * MiB),
      pause: null,
      terminate: Math.floor(0.95 * 400 * MiB),
      maxSpill: 2 ** 30,
    });
  } finally {
    worker.child.kill("SIGTERM");
    assert.equal((await drain(worker)).code, 0);
    sched.child.kill("SIGTERM");
    assert.equal((await drain(sched)).code, 0);
    await Deno.remove(local, { recursive: true });
  }
});

Deno.test("when the process owning a LocalCluster is SIGKILLed, its workers exit", async () => {
  const script = `
    import { LocalCluster } from ${JSON.stringify(new URL("mod.ts", root).href)};
    const cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null, silenceLogs: true });
    console.log("PIDS " + cluster.workerPids.join(","));
    await new Promise(() => {});
  `;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, script);
    const owner = spawn([file]);
    const [, list] = await readUntil(owner.lines, /^PIDS (.+)$/);
    const pids = list.split(",").map(Number);
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.ok(alive(pid));
    owner.child.kill("SIGKILL");
    await drain(owner);
    await until(() => pids.every((pid) => !alive(pid)), "worker processes to exit", 10_000);
  } finally {
    await Deno.remove(file);
  }
});
