/**
 * TLS everywhere: a LocalCluster with `tls` (worker processes), a scheduler and workers started
 * from the command lines with the --tls-* flags, clients without the CA, plaintext peers on TLS
 * ports, and TLS with an auth token. Certificates come from `openssl` (tests/fixtures).
 */
import assert from "node:assert/strict";
import { Client, getClient, getWorker, LocalCluster, TlsError } from "../../mod.ts";
import { makeTestCerts } from "../fixtures/tls_certs.ts";
import { parseAddress } from "../../comm/transport.ts";
import { encodePacket, handshakeCodec } from "../../comm/wire.ts";
import { PROTOCOL_VERSION } from "../../comm/protocol.ts";
import { AUTH_FAILED } from "../../comm/handshake.ts";
import { config, root, schedulerArgs, spawnDeno, stop } from "./cli_process.ts";
import { readUntil } from "./helpers.ts";

const certs = await makeTestCerts();
globalThis.addEventListener("unload", () => Deno.removeSync(certs.dir, { recursive: true }));
const TLS = { cert: certs.cert, key: certs.key, caCerts: certs.ca };

/**
 * Connects to `address` in plain TCP, sends a dtask hello, and reads until the peer closes (or
 * 10 s pass: then `closedByPeer` is false). Returns every byte that came back.
 */
async function plaintextHello(
  address: string,
): Promise<{ got: Uint8Array; closedByPeer: boolean }> {
  const { host, port } = parseAddress(address);
  const conn = await Deno.connect({ hostname: host, port });
  let closedByPeer = true;
  const timer = setTimeout(() => {
    closedByPeer = false;
    conn.close();
  }, 10_000);
  const got: number[] = [];
  try {
    const hello = encodePacket(handshakeCodec(), [
      { op: "hello", version: PROTOCOL_VERSION, role: "client", name: "plaintext" },
    ]);
    for (const c of hello) await conn.write(c);
    const buf = new Uint8Array(4096);
    for (let r; (r = await conn.read(buf)) !== null;) got.push(...buf.subarray(0, r));
  } catch { /* reset by the peer, or closed by the timer */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  return { got: new Uint8Array(got), closedByPeer };
}

/** No dtask byte: nothing, or a TLS alert record (content type 0x15) and the close. */
function assertNoProtocolBytes(r: { got: Uint8Array; closedByPeer: boolean }, what: string) {
  assert.ok(r.closedByPeer, `${what}: the TLS port did not close the plaintext connection`);
  assert.ok(
    r.got.length === 0 || (r.got[0] === 0x15 && r.got[1] === 0x03 && r.got.length <= 7),
    `${what}: a plaintext peer got bytes that are no TLS alert: ${[...r.got.slice(0, 16)]}`,
  );
}

/** Whether any process's command line holds `secret`. */
async function onACommandLine(secret: string): Promise<boolean> {
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if ((await Deno.readTextFile(`/proc/${e.name}/cmdline`)).includes(secret)) return true;
    } catch { /* gone, or not ours */ }
  }
  return false;
}

Deno.test("a TLS LocalCluster of worker processes: tls:// everywhere, refusals at connect", async (t) => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: true,
    dashboardAddress: null,
    silenceLogs: true,
    tls: TLS,
  });
  const workers = cluster.workers.map((w) => w.address);

  await t.step("the scheduler and every worker advertise tls:// addresses", () => {
    assert.match(cluster.schedulerAddress, /^tls:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(workers.length, 2);
    for (const w of workers) assert.match(w, /^tls:\/\/127\.0\.0\.1:\d+$/);
  });

  await t.step("submit, map, gather and a 4 MiB worker-to-worker transfer", async () => {
    await using client = await Client.connect(cluster.schedulerAddress, {
      tls: { caCerts: certs.ca },
    });
    assert.equal(await client.submit((a: number, b: number) => a * b, 6, 7), 42);
    assert.deepEqual(await client.gather(client.map((x: number) => x + 1, [1, 2, 3])), [2, 3, 4]);
    const [w1, w2] = workers;
    const made = client.with({ workers: [w1], allowOtherWorkers: false }).submit(
      (n: number) => new Uint8Array(n).fill(7),
      4 * 2 ** 20,
    );
    const read = client.with({ workers: [w2], allowOtherWorkers: false }).submit(
      (b: Uint8Array) => [b.length, b[0], b[b.length - 1], getWorker().address],
      made,
    );
    assert.deepEqual(await read, [4 * 2 ** 20, 7, 7, w2]);
    const value = await made; // gathered from worker w1 over TLS
    assert.equal(value.length, 4 * 2 ** 20);
  });

  await t.step(
    "a Client given the cluster object takes its CA; getClient() in a task dials over TLS",
    async () => {
      await using client = await Client.connect(cluster);
      const f = client.with({ workers: [workers[0]] }).submit((s: string) => s.repeat(3), "ab");
      assert.equal(await f, "ababab");
      // getClient() inside a task dials the tls:// scheduler with the worker's CA
      const inner = client.submit(async (x: number) => {
        const c = getClient();
        return await c.submit((y: number) => y + 1, x);
      }, 41);
      assert.equal(await inner, 42);
    },
  );

  await t.step("a client without the CA, or with another CA, is refused at connect", async () => {
    for (const tls of [undefined, { caCerts: certs.otherCa }]) {
      const error = await Client.connect(cluster.schedulerAddress, { tls, timeout: 20_000 }).then(
        (c) => (c.close(), null),
        (e) => e,
      );
      assert.ok(error instanceof TlsError, `expected a TlsError, got ${error}`);
      assert.match(error.message, /certificate of tls:\/\/127\.0\.0\.1:\d+ is not trusted/);
      assert.match(error.message, /tls\.caCerts \(or --tls-ca-file\)/);
    }
  });

  await t.step(
    "a plaintext hello to the scheduler's and the workers' ports gets no dtask byte",
    async () => {
      assertNoProtocolBytes(await plaintextHello(cluster.schedulerAddress), "scheduler");
      for (const w of workers) assertNoProtocolBytes(await plaintextHello(w), w);
    },
  );

  await t.step("the worker processes got the key on no command line", async () => {
    assert.equal(cluster.workerPids.length, 2);
    const keyLine = certs.key.split("\n")[1];
    assert.equal(await onACommandLine(keyLine), false);
  });
});

Deno.test("TLS with an auth token: the token still decides, inside TLS", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
    authToken: "tls-and-token",
    tls: TLS,
  });
  const tls = { caCerts: certs.ca };
  {
    await using client = await Client.connect(cluster.schedulerAddress, {
      tls,
      authToken: "tls-and-token",
    });
    assert.equal(await client.submit((x: number) => x * 2, 21), 42);
  }
  for (const authToken of [undefined, "wrong"]) {
    await assert.rejects(
      Client.connect(cluster.schedulerAddress, { tls, authToken, timeout: 20_000 }),
      (e: Error) => e.message.includes(AUTH_FAILED),
    );
  }
});

Deno.test("CLIs with --tls-cert, --tls-key and --tls-ca-file run a task over TLS", async () => {
  const sched = spawnDeno(
    schedulerArgs(["--tls-cert", certs.certFile, "--tls-key", certs.keyFile]),
  );
  let worker;
  try {
    const [, address] = await readUntil(sched.lines, /^Scheduler at: (\S+)$/);
    assert.match(address, /^tls:\/\/127\.0\.0\.1:\d+$/);
    worker = spawnDeno([
      new URL("worker/main.ts", root).href,
      address,
      "--nthreads",
      "1",
      "--tls-cert",
      certs.certFile,
      "--tls-key",
      certs.keyFile,
      "--tls-ca-file",
      certs.caFile,
    ]);
    const [, workerAddress] = await readUntil(worker.lines, /^Worker at: (\S+)/);
    assert.match(workerAddress, /^tls:\/\//);
    await using client = await Client.connect(address, { tls: { caCerts: certs.ca } });
    assert.deepEqual(await client.gather(client.map((x: number) => -x, [1, 2])), [-1, -2]);
  } finally {
    if (worker) assert.equal((await stop(worker)).code, 0);
    assert.equal((await stop(sched)).code, 0);
  }
});

Deno.test("CLIs: a TLS file that cannot be read exits 2 saying which", async () => {
  const missing = `${certs.dir}/no-such.pem`;
  const runs = [
    ["scheduler/main.ts", "--port", "0", "--tls-cert", missing, "--tls-key", certs.keyFile],
    ["worker/main.ts", "tls://127.0.0.1:1", "--tls-cert", certs.certFile, "--tls-key", missing],
    ["worker/main.ts", "tls://127.0.0.1:1", "--tls-ca-file", missing],
  ];
  for (const [cmd, ...flags] of runs) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "-q", "--config", config, new URL(cmd, root).href, ...flags],
      stdin: "null",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, `${cmd} ${flags.join(" ")}: ${err}`);
    assert.match(err, /--tls-(cert|key|ca-file) \S*no-such\.pem: cannot read it/);
    assert.equal(new TextDecoder().decode(out.stdout), "", "it started nothing");
  }
});

Deno.test("worker CLI: --tls-ca-file without --tls-cert exits 2 whatever the scheduler's scheme", async () => {
  for (const scheduler of ["tls://127.0.0.1:1", "tcp://127.0.0.1:1"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "-q",
        "--config",
        config,
        new URL("worker/main.ts", root).href,
        scheduler,
        "--tls-ca-file",
        certs.caFile,
      ],
      stdin: "null",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, `${scheduler}: ${err}`);
    assert.match(err, /give --tls-cert and --tls-key/);
  }
});
