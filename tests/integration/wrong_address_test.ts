/**
 * The wrong address: a client or a worker that dials a worker's peer port, the dashboard's HTTP
 * port or a TLS server gets an error at connect saying what answered and where to go; an HTTP
 * request to a dtask port gets a 400 saying what the port is. Nothing is retried, nothing
 * alarming is logged.
 */
import assert from "node:assert/strict";
import { Client, ProtocolError, Scheduler, Worker } from "../../mod.ts";
import { registerDialer } from "../../client/dialers.ts";
import { dial } from "../../comm/dial.ts";

/** A scheduler with a dashboard and one worker, their log lines kept. */
async function cluster() {
  const logs: string[] = [];
  const s = await Scheduler.start({ dashboardAddress: ":0", log: (l) => logs.push(l) });
  let w: Worker;
  try {
    w = await Worker.start({ scheduler: s.address, nthreads: 1, log: (l) => logs.push(l) });
  } catch (e) {
    await s.close();
    throw e;
  }
  return {
    s,
    w,
    logs,
    dashboardPort: new URL(s.dashboardLink!).port,
    async [Symbol.asyncDispose]() {
      await w.close();
      await s.close();
    },
  };
}

/** Checks a WrongRoleError (by name, so the check runs against any dtask build). */
function wrongRole(found: string, re: RegExp, use?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.equal((e as Error).name, "WrongRoleError", String(e));
    assert.equal((e as { found?: string }).found, found);
    assert.equal((e as { use?: string }).use, use);
    assert.match((e as Error).message, re);
    return true;
  };
}

/** Counts the tcp:// dials of `Client.connect` while `f` runs. */
async function countingDials(f: () => Promise<void>): Promise<number> {
  let dials = 0;
  registerDialer("tcp", (address) => {
    dials++;
    return dial(address);
  });
  try {
    await f();
  } finally {
    registerDialer("tcp", dial);
  }
  return dials;
}

const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const ALARMING = /protocol error|may not send|too large|error accepting/;

Deno.test("Client.connect to a worker's peer port rejects at once, naming the scheduler", async () => {
  await using c = await cluster();
  const dials = await countingDials(() =>
    assert.rejects(
      Client.connect(c.w.address),
      wrongRole(
        "worker",
        new RegExp(
          `^${quote(c.w.address)} refused the client: this is a worker's peer port, not the ` +
            `scheduler; connect the client to the scheduler at ${quote(c.s.address)}$`,
        ),
        c.s.address,
      ),
    )
  );
  assert.equal(dials, 1, "the refusal is not retried");
  assert.deepEqual(c.logs.filter((l) => ALARMING.test(l)), []);
});

Deno.test("a worker pointed at another worker's port fails to start, naming the scheduler", async () => {
  await using c = await cluster();
  let dials = 0;
  await assert.rejects(
    Worker.start({
      scheduler: c.w.address,
      nthreads: 1,
      silenceLogs: true,
      dial: (a) => (dials++, dial(a)),
    }),
    wrongRole(
      "worker",
      new RegExp(`point the worker at the scheduler at ${quote(c.s.address)}$`),
      c.s.address,
    ),
  );
  assert.equal(dials, 1, "the refusal is not retried");
  assert.equal(c.s.nWorkers, 1);
});

Deno.test("a client or a worker dialling the dashboard's port hears it is an HTTP server", async () => {
  await using c = await cluster();
  const address = `tcp://127.0.0.1:${c.dashboardPort}`;
  const http = new RegExp(
    `^${quote(address)} answered as an HTTP server \\(is it the dashboard\\? the scheduler is ` +
      `at tcp://127\\.0\\.0\\.1:8786 by default\\)$`,
  );
  const dials = await countingDials(() =>
    assert.rejects(Client.connect(address), wrongRole("HTTP server", http))
  );
  assert.equal(dials, 1);
  await assert.rejects(
    Worker.start({ scheduler: address, nthreads: 1, silenceLogs: true }),
    wrongRole("HTTP server", http),
  );
});

Deno.test("an HTTP request to the scheduler's or a worker's TCP port gets a 400 saying what it is", async () => {
  await using c = await cluster();
  const atScheduler = await fetch(c.s.address.replace("tcp://", "http://") + "/status");
  assert.equal(atScheduler.status, 400);
  assert.equal(
    await atScheduler.text(),
    `this is a dtask scheduler's TCP port (${c.s.address}), for clients and workers, not an ` +
      `HTTP server; the dashboard is at ${c.s.dashboardLink}\n`,
  );
  const atWorker = await fetch(c.w.address.replace("tcp://", "http://"), { method: "POST" });
  assert.equal(atWorker.status, 400);
  assert.equal(
    await atWorker.text(),
    `this is a dtask worker's TCP port (${c.w.address}), for its peers, not an HTTP server; ` +
      `its scheduler is at ${c.s.address}\n`,
  );
  // both still serve dtask
  await using client = await Client.connect(c.s.address);
  assert.equal(await client.submit((x: number) => x + 1, 1), 2);
  assert.deepEqual(c.logs.filter((l) => ALARMING.test(l)), []);
});

/** Whether openssl can make a certificate here. */
function hasOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "a tcp:// address that reaches a TLS server says it answered with TLS",
  ignore: !hasOpenssl(), // openssl makes the test's certificate
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const made = await new Deno.Command("openssl", {
        args: ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days"]
          .concat(["1", "-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`]),
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(made.success, new TextDecoder().decode(made.stderr));
      const l = Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: await Deno.readTextFile(`${dir}/cert.pem`),
        key: await Deno.readTextFile(`${dir}/key.pem`),
      });
      const served = (async () => {
        const conn = await l.accept();
        await conn.handshake().catch(() => {}); // our hello is no ClientHello
        conn.close();
      })();
      const address = `tcp://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
      try {
        await assert.rejects(
          Client.connect(address),
          wrongRole("TLS server", new RegExp(`^${quote(address)} answered with TLS`)),
        );
      } finally {
        await served;
        l.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
