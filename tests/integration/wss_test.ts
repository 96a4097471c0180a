/**
 * The scheduler's WebSocket listener with TLS: a LocalCluster with `tls` and `wsPort` serves
 * wss:// alone. A client given the CA works over it (mod.ts's dialer in this process; the
 * browser-safe client in a child process whose runtime trusts the CA with --cert or DENO_CERT);
 * a client without the CA fails at once with a TlsError saying what to do; a plaintext ws:// or
 * HTTP request gets no HTTP bytes. Certificates come from `openssl` (tests/fixtures).
 */
import assert from "node:assert/strict";
import { Client, LocalCluster, type LocalClusterOptions, TlsError } from "../../mod.ts";
import { makeTestCerts } from "../fixtures/tls_certs.ts";
import { parseAddress } from "../../comm/transport.ts";
import { within } from "./helpers.ts";

const certs = await makeTestCerts();
globalThis.addEventListener("unload", () => Deno.removeSync(certs.dir, { recursive: true }));
const TLS = { cert: certs.cert, key: certs.key, caCerts: certs.ca };
const PROGRAM = new URL("../fixtures/wss_client_program.ts", import.meta.url).pathname;

function startCluster(extra: LocalClusterOptions = {}): Promise<LocalCluster> {
  return LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
    wsPort: 0,
    tls: TLS,
    ...extra,
  });
}

/** Runs the client-only program with `denoFlags` (and `env`); its exit code and output. */
async function runProgram(
  denoFlags: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-net", ...denoFlags, PROGRAM, ...args],
    env: { NO_COLOR: "1", ...env },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, out: text(out.stdout), err: text(out.stderr) };
}

Deno.test("with tls and wsPort the scheduler listens on wss://; a client given the CA runs tasks over it", async () => {
  await using cluster = await startCluster();
  assert.match(cluster.wsAddress!, /^wss:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(cluster.scheduler.wsAddress, cluster.wsAddress);
  assert.match(cluster.schedulerAddress, /^tls:\/\//);
  await using client = await Client.connect(cluster.wsAddress!, { tls: { caCerts: certs.ca } });
  assert.equal(await client.submit((x: number) => x + 1, 1), 2);
  const big = await client.submit((n: number) => new Uint8Array(n).fill(3), 1 << 20);
  assert.equal((big as Uint8Array)[54321], 3);
  // the same host by name, which the certificate names too
  const byName = cluster.wsAddress!.replace("127.0.0.1", "localhost");
  await using named = await Client.connect(byName, { tls: { caCerts: [certs.ca] } });
  assert.equal(await named.submit((x: number) => x * 3, 3), 9);
});

Deno.test("over wss:// a client without the CA, or with another CA, gets a TlsError at once", async () => {
  await using cluster = await startCluster({ nWorkers: 0 });
  for (const tls of [undefined, { caCerts: certs.otherCa }]) {
    // a dial that retried would end in a TimeoutError after a minute, not in a TlsError
    await assert.rejects(
      Client.connect(cluster.wsAddress!, { timeout: 60_000, tls }),
      (e: Error) =>
        e instanceof TlsError && /is not trusted/.test(e.message) &&
        /tls\.caCerts/.test(e.message) && e.message.includes(cluster.wsAddress!),
    );
  }
});

Deno.test("the browser-safe client over wss:// works when the runtime trusts the CA (--cert, DENO_CERT), and otherwise says how", async () => {
  await using cluster = await startCluster();
  const address = cluster.wsAddress!;
  const withFlag = await runProgram(["--cert", certs.caFile], [address]);
  assert.equal(withFlag.code, 0, withFlag.err);
  assert.equal(withFlag.out.trim(), "submit 42");
  const withEnv = await runProgram([], [address], { DENO_CERT: certs.caFile });
  assert.equal(withEnv.code, 0, withEnv.err);
  assert.equal(withEnv.out.trim(), "submit 42");
  // tls.caCerts alone: the standard WebSocket cannot use them, and the error says so
  const caOnly = await runProgram(["--allow-read"], [address, certs.caFile]);
  assert.equal(caOnly.code, 1);
  assert.match(
    caOnly.err,
    /^TlsError: the TLS certificate of wss:\/\/127\.0\.0\.1:\d+ is not trusted/,
  );
  assert.match(caOnly.err, /cannot take tls\.caCerts for one connection/);
  assert.match(caOnly.err, /DENO_CERT=ca\.pem or --cert ca\.pem/);
  assert.match(caOnly.err, /install the CA/);
});

Deno.test("a plaintext ws:// or HTTP request to the wss:// port gets no HTTP bytes; HTTPS gets the 400", async () => {
  await using cluster = await startCluster({ nWorkers: 0 });
  const { host, port } = parseAddress(cluster.wsAddress!);
  const conn = await Deno.connect({ hostname: host, port });
  let closedByPeer = true;
  const timer = setTimeout(() => {
    closedByPeer = false;
    conn.close();
  }, 10_000);
  const got: number[] = [];
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
    );
    const buf = new Uint8Array(4096);
    for (let r; (r = await conn.read(buf)) !== null;) got.push(...buf.subarray(0, r));
  } catch { /* reset by the peer, or closed by the timer */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  assert.ok(closedByPeer, "the wss:// port did not close the plaintext connection");
  assert.ok(
    got.length === 0 || (got[0] === 0x15 && got[1] === 0x03 && got.length <= 7),
    `a plaintext request got bytes that are no TLS alert: ${got.slice(0, 16)}`,
  );
  // the Client dialling ws:// is told at once that the port wants wss://
  await assert.rejects(
    Client.connect(cluster.wsAddress!.replace(/^wss:/, "ws:"), { timeout: 60_000 }),
    (e: Error) => e instanceof TlsError && /is it a wss:\/\/ port\?/.test(e.message),
  );
  const http = Deno.createHttpClient({ caCerts: [certs.ca] });
  try {
    const res = await fetch(cluster.wsAddress!.replace(/^wss:/, "https:"), { client: http });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /dtask scheduler's WebSocket port \(wss:\/\//);
  } finally {
    http.close();
  }
});

Deno.test("a wss:// dial of a plain ws:// port fails at once with a TlsError naming ws://", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 0,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
    wsPort: 0,
  });
  assert.match(cluster.wsAddress!, /^ws:\/\//);
  await assert.rejects(
    Client.connect(cluster.wsAddress!.replace(/^ws:/, "wss:"), {
      timeout: 60_000,
      tls: { caCerts: certs.ca },
    }),
    (e: Error) => e instanceof TlsError && /is it a plain ws:\/\/ port\?/.test(e.message),
  );
});

Deno.test("over wss:// with worker processes, values past the inline limit travel through the scheduler's TLS dial", async () => {
  await using cluster = await startCluster({ processes: true });
  await using client = await Client.connect(cluster.wsAddress!, { tls: { caCerts: certs.ca } });
  // over 1 MiB: the result stays on its worker, and the scheduler fetches it for this client
  const big = client.submit((n: number) => new Uint8Array(n).fill(5), 2 << 20);
  const got = await within(client.gather(big), "the 2 MiB result");
  assert.equal(got.length, 2 << 20);
  assert.equal(got[1 << 20], 5);
  const [scattered] = client.scatter([new Uint8Array(2 << 20).fill(7)]);
  const read = client.submit((b: Uint8Array) => b[12345], scattered);
  assert.equal(await within(client.gather(read), "a task on the scattered value"), 7);
});
