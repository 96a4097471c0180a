// The scheduler's WebSocket listener: a program that imports only client/mod.ts, run with
// --allow-net alone, does the futures API over ws:// with values through the scheduler; a
// wrong token is refused at connect; the listener answers plain HTTP with a 400.
import assert from "node:assert/strict";
import { Client, LocalCluster, ProtocolError } from "../../mod.ts";
import { Client as PortableClient } from "../../client/mod.ts";
import { planCluster } from "../../cluster/local_options.ts";
import { drain, schedulerArgs, spawnDeno as spawn } from "./cli_process.ts";
import { readUntil, until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const PROGRAM = new URL("../fixtures/ws_client_program.ts", import.meta.url).href;

async function runProgram(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-net", PROGRAM, ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, out: text(out.stdout), err: text(out.stderr) };
}

Deno.test("a client-only program over ws:// with --allow-net alone: submit, map, a 2 MiB result, scatter", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    dashboardAddress: null,
    silenceLogs: true,
    wsPort: 0,
  });
  assert.match(cluster.wsAddress!, /^ws:\/\/127\.0\.0\.1:\d+$/);
  const r = await runProgram(cluster.wsAddress!);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split("\n"), [
    "submit 42",
    "map [1,4,9,16]",
    "big Uint8Array 2097152 true",
    `scatter ${3 * 1024 * 1024 * 7}`,
    "scatter-back 3145728 7",
  ]);
});

Deno.test("over ws:// a wrong or missing token is refused at connect with a clear error", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
    wsPort: 0,
    authToken: "right-token",
  });
  const address = cluster.wsAddress!;
  for (const authToken of ["wrong-token", undefined]) {
    await assert.rejects(
      PortableClient.connect(address, { timeout: 5000, authToken }),
      (e: Error) => e instanceof ProtocolError && /authentication failed/.test(e.message),
    );
  }
  await using client = await PortableClient.connect(address, { authToken: "right-token" });
  assert.equal(await client.submit((x: number) => x + 1, 1), 2);
  const r = await runProgram(address, "wrong-token");
  assert.notEqual(r.code, 0);
  assert.match(r.err, /authentication failed/);
});

Deno.test("the full client over ws:// runs the futures API through the scheduler too", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
    wsPort: 0,
  });
  await using client = await Client.connect(cluster.wsAddress!);
  const xs = client.map((x: number) => new Float64Array(70_000).fill(x), [1, 2, 3]);
  const arrays = await client.gather(xs) as Float64Array[];
  assert.deepEqual(arrays.map((a) => [a.length, a[69_999]]), [[70_000, 1], [70_000, 2], [
    70_000,
    3,
  ]]);
  const v = client.scatter(new Float64Array(50_000).fill(2));
  assert.equal(await client.submit((v: Float64Array, k: number) => v[0] * k, v, 5), 10);
});

Deno.test("the WebSocket port answers a plain HTTP request with a 400 saying what it is", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 0,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
    wsPort: 0,
  });
  const res = await fetch(cluster.wsAddress!.replace(/^ws:/, "http:"));
  assert.equal(res.status, 400);
  assert.match(await res.text(), /dtask scheduler's WebSocket port/);
});

Deno.test("wsPort must be a port number; beyond loopback without a token it is warned about", () => {
  for (const wsPort of [-1, 1.5, 70000]) {
    assert.throws(() => planCluster({ nWorkers: 0, wsPort }), /wsPort must be a port number/);
  }
  const warned: string[] = [];
  const warn = console.warn;
  console.warn = (line: string) => warned.push(line);
  try {
    planCluster({ nWorkers: 0, wsPort: 0, host: "0.0.0.0" });
    planCluster({ nWorkers: 0, wsPort: 0, host: "0.0.0.0", authToken: "t" });
  } finally {
    console.warn = warn;
  }
  assert.equal(warned.length, 1);
  assert.match(
    warned[0],
    /^WARNING: this LocalCluster \(TCP and WebSocket\) listens on 0\.0\.0\.0/,
  );
});

Deno.test("scheduler CLI: --ws-port prints the ws:// address a client connects to", async () => {
  const sched = spawn(schedulerArgs(["--ws-port", "0"]));
  try {
    await readUntil(sched.lines, /^Scheduler at: tcp:\/\//);
    const [, ws] = await readUntil(sched.lines, /^WebSocket at: (ws:\/\/127\.0\.0\.1:\d+)$/);
    await using client = await PortableClient.connect(ws);
    assert.match((await client.schedulerInfo()).address, /^tcp:\/\//);
  } finally {
    sched.child.kill("SIGTERM");
    assert.equal((await drain(sched)).code, 0);
  }
  const bad = spawn(schedulerArgs(["--ws-port", "http"]));
  assert.equal((await drain(bad)).code, 2);
  assert.match(await bad.errText, /--ws-port must be a port number/);
});

Deno.test("a replaced scheduler listens on the same ws:// address; a WebSocket client comes back", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
    wsPort: 0,
  });
  await using client = await PortableClient.connect(cluster.wsAddress!);
  assert.equal(await client.submit((x: number) => x + 1, 1), 2);
  const old = cluster.scheduler;
  // a transition no peer asked for throws: the scheduler fails as a whole
  schedulerState(old).balance = () => {
    throw new Error("injected scheduler failure");
  };
  await until(() => cluster.scheduler !== old, "a new scheduler");
  assert.equal(cluster.scheduler.wsAddress, cluster.wsAddress);
  await cluster.scheduler.waitForWorkers(1, 20_000);
  const big = await client.submit((n: number) => new Uint8Array(n).fill(4), 1 << 20);
  assert.equal((big as Uint8Array)[12345], 4);
});
