// Listening on 0.0.0.0: without a token the CLIs and LocalCluster warn, and every listener
// advertises an address peers can dial (never tcp://0.0.0.0), or the contact address it is given.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { dial } from "../../comm/dial.ts";
import { sendHello } from "../../comm/handshake.ts";
import { root, spawnDeno, stop } from "./cli_process.ts";
import { readUntil } from "./helpers.ts";

const SCHEDULER = new URL("scheduler/main.ts", root).href;
const WORKER = new URL("worker/main.ts", root).href;

/** Says hello to the worker at `address` as a peer would; true when it answers. */
async function answers(address: string, token?: string): Promise<boolean> {
  const t = await dial(address);
  try {
    await sendHello(t, { role: "peer", name: "probe", token }, 10_000);
    return true;
  } finally {
    t.close();
  }
}

Deno.test("CLIs on 0.0.0.0 without a token: a warning, and addresses a client can dial", async () => {
  const sched = spawnDeno([
    SCHEDULER,
    "--host",
    "0.0.0.0",
    "--port",
    "0",
    "--dashboard-address",
    "none",
  ]);
  const workers = [];
  try {
    const [, address, host] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/(.+):\d+)$/);
    assert.notEqual(host, "0.0.0.0");
    for (const extra of [[], ["--contact-address", "tcp://127.0.0.1"]]) {
      const w = spawnDeno([WORKER, address, "--host", "0.0.0.0", "--nthreads", "1", ...extra]);
      workers.push(w);
      const [, at, whost] = await readUntil(w.lines, /^Worker at: (tcp:\/\/(.+):\d+)/);
      assert.equal(whost, extra.length ? "127.0.0.1" : host);
      assert.ok(await answers(at));
    }
    await using client = await Client.connect(address);
    assert.equal(Object.keys((await client.schedulerInfo()).workers).length, 2);
    assert.equal(await client.submit((x: number) => x + 1, 41), 42);
  } finally {
    for (const w of workers) assert.equal((await stop(w)).code, 0);
    assert.equal((await stop(sched)).code, 0);
  }
  assert.match(await sched.errText, /^WARNING: the scheduler listens on 0\.0\.0\.0 without TLS/m);
  for (const w of workers) {
    assert.match(await w.errText, /^WARNING: this worker listens on 0\.0\.0\.0 without TLS/m);
  }
});

Deno.test("CLIs on 0.0.0.0 with a token file: no warning", async () => {
  const tokenFile = await Deno.makeTempFile();
  await Deno.writeTextFile(tokenFile, crypto.randomUUID());
  const secure = ["--host", "0.0.0.0", "--auth-token-file", tokenFile];
  const sched = spawnDeno([SCHEDULER, ...secure, "--port", "0", "--dashboard-address", "none"]);
  let worker;
  try {
    const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
    assert.doesNotMatch(address, /0\.0\.0\.0/);
    worker = spawnDeno([WORKER, address, ...secure, "--nthreads", "1"]);
    const [, at] = await readUntil(worker.lines, /^Worker at: (tcp:\/\/\S+)/);
    assert.doesNotMatch(at, /0\.0\.0\.0/);
  } finally {
    if (worker) assert.equal((await stop(worker)).code, 0);
    assert.equal((await stop(sched)).code, 0);
    await Deno.remove(tokenFile);
  }
  if (worker) assert.doesNotMatch(await worker.errText, /WARNING/);
  assert.doesNotMatch(await sched.errText, /WARNING/);
});

Deno.test("LocalCluster on 0.0.0.0: warns; its scheduler and workers advertise dialable addresses", async () => {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
  let cluster;
  try {
    cluster = await LocalCluster.start({
      host: "0.0.0.0",
      nWorkers: 1,
      threadsPerWorker: 1,
      dashboardAddress: null,
      silenceLogs: true,
    });
  } finally {
    console.warn = warn;
  }
  await using _ = cluster;
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^WARNING: this LocalCluster listens on 0\.0\.0\.0 without TLS/);
  assert.doesNotMatch(cluster.schedulerAddress, /0\.0\.0\.0/);
  await using client = await Client.connect(cluster.schedulerAddress);
  assert.equal(await client.submit((x: number) => x * 3, 3), 9);
  assert.equal(cluster.workers.length, 1);
  for (const w of cluster.workers) {
    assert.doesNotMatch(w.address, /0\.0\.0\.0/);
    assert.ok(await answers(w.address));
  }
});
