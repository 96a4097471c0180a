// A client survives a dropped scheduler connection: a TCP proxy between the client and
// the scheduler cuts every connection; the client reconnects, gets its wanted keys back, and its
// futures resolve. A scheduler that stays unreachable makes pending futures fail with
// CommClosedError; a scheduler that closes makes them fail at once.
import assert from "node:assert/strict";
import { Client, CommClosedError, getClient, LocalCluster, Scheduler } from "../../mod.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

/** A TCP proxy to `target` (tcp://host:port) whose connections can all be cut at once. */
class CuttableProxy {
  readonly address: string;
  #listener: Deno.TcpListener;
  #conns = new Set<Deno.Conn>();
  #pumps = new Set<Promise<unknown>>();
  #serving: Promise<void>;
  accepted = 0;

  /** Where new connections go (may change: a scheduler replaced by another). */
  target = "";

  constructor(target: string) {
    this.target = target;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.address = `tcp://127.0.0.1:${listener.addr.port}`;
    this.#serving = (async () => {
      for await (const down of listener) {
        this.accepted++;
        const url = new URL(this.target.replace(/^tcp:/, "http:"));
        let up: Deno.Conn;
        try {
          up = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
        } catch {
          down.close();
          continue;
        }
        this.#conns.add(down);
        this.#conns.add(up);
        for (const [from, to] of [[down, up], [up, down]]) {
          const p = from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
            this.#drop(from);
            this.#drop(to);
          });
          this.#pumps.add(p);
          p.finally(() => this.#pumps.delete(p));
        }
      }
    })().catch(() => {});
  }

  #drop(c: Deno.Conn): void {
    if (!this.#conns.delete(c)) return;
    try {
      c.close();
    } catch { /* closed by its pipe */ }
  }

  /** Cuts every proxied connection (the listener stays: a reconnect gets through). */
  async cut(): Promise<void> {
    for (const c of [...this.#conns]) this.#drop(c);
    await Promise.all(this.#pumps);
  }

  /** Stops listening and cuts everything. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    await this.#serving;
    await this.cut();
  }
}

// dask: test_client.py::test_reconnect
Deno.test("a dropped scheduler connection: the client reconnects and its futures resolve", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 2,
    dashboardAddress: null,
    silenceLogs: true,
  });
  const proxy = new CuttableProxy(cluster.schedulerAddress);
  try {
    await using client = await Client.connect(proxy.address);
    const id = client.id;
    // a task that runs across the cut: it waits for a dataset published after the reconnect
    const slow = client.submit(async function waitsForGo() {
      return await getClient().getDataset("go", { timeout: 20_000 });
    });
    const early = client.submit((x: number) => x * 2, 21);
    assert.equal(await early, 42);
    await proxy.cut();
    await until(() => proxy.accepted >= 2, "the client to reconnect");
    assert.equal(client.id, id, "the scheduler gave the client its id back");
    await client.publishDataset("go", "after the cut");
    assert.equal(await slow.result({ timeout: 20_000 }), "after the cut");
    assert.equal(await client.submit((x: number) => x + 1, 1), 2);
    assert.equal(await early, 42);
  } finally {
    await proxy.close();
  }
});

Deno.test("a scheduler that stays unreachable: pending futures fail with CommClosedError", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const proxy = new CuttableProxy(scheduler.address);
  try {
    await using client = await Client.connect(proxy.address, { reconnectTimeout: 300 });
    const f = client.submit((x: number) => x + 1, 1); // no worker: it waits
    await until(() => proxy.accepted === 1, "the connection");
    await proxy.close();
    const e = await f.then(() => null, (e) => e);
    assert.ok(e instanceof CommClosedError, String(e));
    assert.match(e.message, /connection to the scheduler was lost/);
    assert.match(e.message, /could not reconnect .* within 300 ms/);
    assert.equal(f.status, "lost");
  } finally {
    await proxy.close();
    await scheduler.close();
  }
});

Deno.test("a scheduler that closes: pending futures fail at once, no reconnecting", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  await using client = await Client.connect(scheduler.address); // default reconnectTimeout: 30 s
  const f = client.submit((x: number) => x + 1, 1);
  await until(() => schedulerState(scheduler).tasks.size === 1, "the task to reach the scheduler");
  await scheduler.close();
  const e = await f.then(() => null, (e) => e);
  assert.ok(e instanceof CommClosedError, String(e));
  assert.match(e.message, /the scheduler closed/);
});

// The scheduler is replaced by a new one (its state gone): the client's pending graph is sent
// again on the new connection, so its futures still resolve.
Deno.test("a scheduler replaced by a new one: the client resubmits its pending graph", async () => {
  const first = await Scheduler.start({ dashboardAddress: null });
  const proxy = new CuttableProxy(first.address);
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    dashboardAddress: null,
    silenceLogs: true,
  });
  try {
    await using client = await Client.connect(proxy.address);
    const id = client.id;
    // no worker on the first scheduler: everything waits there
    const xs = client.map((x: number) => x * 10, [1, 2, 3]);
    const total = client.submit((a: number[]) => a.reduce((s, x) => s + x, 0), xs);
    await until(
      () => schedulerState(first).tasks.size === 4,
      "the graph to reach the first scheduler",
    );
    proxy.target = cluster.schedulerAddress;
    await proxy.cut();
    await first.close();
    assert.equal(await total.result({ timeout: 20_000 }), 60);
    assert.deepEqual(await client.gather(xs), [10, 20, 30]);
    assert.notEqual(client.id, id, "a new scheduler gives a new id");
  } finally {
    await proxy.close();
    await first.close();
  }
});

Deno.test("closing a client while it reconnects ends at once and leaves nothing behind", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const proxy = new CuttableProxy(scheduler.address);
  try {
    const client = await Client.connect(proxy.address);
    const f = client.submit((x: number) => x + 1, 1);
    await until(
      () => schedulerState(scheduler).tasks.size === 1,
      "the task to reach the scheduler",
    );
    await proxy.close(); // unreachable from now on: the client keeps retrying
    await client.close();
    const e = await f.then(() => null, (e) => e);
    assert.ok(e instanceof Error, String(e));
    assert.notEqual(f.status, "pending");
  } finally {
    await proxy.close();
    await scheduler.close();
  }
});
