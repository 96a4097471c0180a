// Worker.start's registration: a handshake the scheduler does not answer times out after
// `handshakeTimeout` and is tried again; `deathTimeout` ends the trying with a clear error;
// aborting `signal` ends it at once.
import assert from "node:assert/strict";
import { Scheduler, TimeoutError, Worker } from "../../mod.ts";

/** A TCP server that accepts connections and never says a word. */
function silentServer(onAccept = () => {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const loop = (async () => {
    for await (const c of listener) {
      conns.push(c);
      onAccept();
    }
  })();
  return {
    address: `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    conns,
    async close() {
      listener.close();
      await loop.catch(() => {});
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test("Worker.start: an unanswered handshake times out after handshakeTimeout", async () => {
  const server = silentServer();
  try {
    await assert.rejects(
      Worker.start({
        scheduler: server.address,
        nthreads: 1,
        handshakeTimeout: 200,
        connectTimeout: 0,
        silenceLogs: true,
      }),
      (e) => e instanceof TimeoutError && /handshake .* timed out after 200 ms/.test(e.message),
    );
  } finally {
    await server.close();
  }
});

Deno.test("Worker.start: deathTimeout retries unanswered handshakes, then says the scheduler is gone", async () => {
  const server = silentServer();
  try {
    await assert.rejects(
      Worker.start({
        scheduler: server.address,
        nthreads: 1,
        name: "w",
        handshakeTimeout: 100,
        deathTimeout: 1000,
        silenceLogs: true,
      }),
      (e) =>
        e instanceof TimeoutError &&
        e.message === `Worker w: the scheduler at ${server.address} was gone for more than 1 s ` +
            "(deathTimeout); exiting",
    );
    assert.ok(server.conns.length >= 2, `${server.conns.length} attempts`);
  } finally {
    await server.close();
  }
});

Deno.test("Worker.start: aborting its signal ends the start at once; a later start works", async () => {
  const stop = new AbortController();
  const server = silentServer(() => stop.abort()); // mid-handshake
  try {
    const start = Worker.start({
      scheduler: server.address,
      nthreads: 1,
      signal: stop.signal,
      silenceLogs: true,
    });
    await assert.rejects(start, (e) => (e as Error).name === "AbortError");
  } finally {
    await server.close();
  }
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const w = await Worker.start({
    scheduler: scheduler.address,
    nthreads: 1,
    handshakeTimeout: 5000,
  });
  await w.close();
  await scheduler.close();
});
