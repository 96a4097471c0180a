// The workers' I/O in the task stream: a value fetched from a peer process is a "transfer" on
// the worker that fetched it, values spilled and read back are "disk-write" and "disk-read" on
// the worker that holds them; client.getTaskStream() and the dashboard's feed both carry them.
import assert from "node:assert/strict";
import { Client, type Future, LocalCluster, wait } from "../../mod.ts";
import type { FeedUpdate } from "../../dashboard/feed_protocol.ts";
import { until } from "./helpers.ts";

const MiB = 2 ** 20;
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** The feed's updates of a dashboard page's socket. */
class FeedPage {
  readonly ws: WebSocket;
  readonly updates: FeedUpdate[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === "update") this.updates.push(m);
    };
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = (e) => reject(new Error(`socket error: ${(e as ErrorEvent).message}`));
    });
    this.closed = new Promise((resolve) => this.ws.onclose = resolve);
  }

  /** Whether an entry of `kind` on `worker` arrived. */
  has(kind: number, worker: string): boolean {
    return this.updates.some((u) =>
      u.stream.kind.some((k, i) => k === kind && u.stream.workers[u.stream.worker[i]] === worker)
    );
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

Deno.test("a fetch from a peer process, spill writes and reads: in getTaskStream and on the feed", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: true,
    dashboardAddress: ":0",
    silenceLogs: true,
    memoryLimit: "80MiB", // a target of 40 MiB; nothing pauses or terminates
    memoryTarget: 0.5,
    memorySpill: false,
    memoryPause: false,
    memoryTerminate: false,
    heartbeatInterval: 100,
  });
  await using client = await Client.connect(cluster);
  const page = new FeedPage(
    `${cluster.dashboardLink!.replace(/\/status$/, "").replace(/^http/, "ws")}/ws`,
  );
  try {
    await page.opened;
    const [a, b] = Object.values((await client.schedulerInfo()).workers)
      .sort((p, q) => Number(p.name) - Number(q.name)).map((i) => i.address);
    const onA = client.with({ workers: [a] }), onB = client.with({ workers: [b] });

    // 32 MiB made on A, read by a task on B: B fetches it
    const big = onA.submit(bytes, 32 * MiB, 7);
    await wait(big);
    const read = onB.submit((v: Uint8Array) => [v.length, v[0]], big);
    assert.deepEqual(await read, [32 * MiB, 7]);
    await until(
      async () =>
        (await client.getTaskStream()).some((r) =>
          r.action === "transfer" && r.worker === b && r.nbytes >= 32 * MiB
        ),
      "a transfer of 32 MiB on B",
    );
    const transfer = (await client.getTaskStream()).find((r) => r.action === "transfer")!;
    assert.equal(transfer.worker, b);
    assert.equal(transfer.status, "OK");
    assert.equal(transfer.startstops.length, 1);
    assert.equal(transfer.startstops[0].action, "transfer");
    assert.equal(transfer.startstops[0].source, a);
    assert.ok(transfer.startstops[0].stop >= transfer.startstops[0].start);
    assert.match(transfer.key, /^transfer-1$/);
    // the tasks are there as before, as computes
    const computes = (await client.getTaskStream()).filter((r) => r.action === "compute");
    assert.ok(computes.some((r) => r.key === big.key && r.worker === a));
    assert.ok(computes.every((r) => r.startstops[0].action === "compute"));

    // 32 + 2 x 8 MiB on A, over its 40 MiB target: values spill, then all are read back
    const more: Future<Uint8Array>[] = [];
    for (let i = 0; i < 2; i++) {
      more.push(onA.submit(bytes, 8 * MiB, i + 1));
      await wait(more[i]);
    }
    await until(
      async () =>
        (await client.getTaskStream()).some((r) => r.action === "disk-write" && r.worker === a),
      "a disk-write on A",
    );
    const sums = onA.submit(
      (...vs: Uint8Array[]) => vs.map((v) => v.length),
      big,
      ...more,
    );
    assert.deepEqual(await sums, [32 * MiB, 8 * MiB, 8 * MiB]);
    await until(
      async () =>
        (await client.getTaskStream()).some((r) => r.action === "disk-read" && r.worker === a),
      "a disk-read on A",
    );
    const io = (await client.getTaskStream()).filter((r) =>
      r.worker === a && r.action !== "compute"
    );
    for (const r of io) {
      assert.ok(r.nbytes > 0, `${r.action} of ${r.nbytes} bytes`);
      assert.equal(r.startstops[0].source, undefined);
    }

    // the dashboard's feed drew them in their own kinds: 2 transfer, 3 disk-write, 4 disk-read
    await until(() => page.has(2, b), "a transfer entry (kind 2) on B in the feed");
    await until(() => page.has(3, a), "a disk-write entry (kind 3) on A in the feed");
    await until(() => page.has(4, a), "a disk-read entry (kind 4) on A in the feed");
  } finally {
    await page.close();
  }
});
