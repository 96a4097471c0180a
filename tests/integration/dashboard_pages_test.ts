// The live dashboard against a real LocalCluster: its WebSocket feed, its server-rendered pages,
// its JSON routes, and the dashboardPrefix option.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { Scheduler } from "../../scheduler/scheduler.ts";
import { planCluster } from "../../cluster/local_options.ts";
import type { FeedMessage, FeedSnapshot, FeedUpdate } from "../../dashboard/feed_protocol.ts";
import { readUntil, until } from "./helpers.ts";
import { drain, root, spawnDeno, stop } from "./cli_process.ts";

const slowinc = async (x: number) => {
  await new Promise((r) => setTimeout(r, 2));
  return x + 1;
};

/** A page's socket, with every message it got. */
class Page {
  readonly ws: WebSocket;
  readonly messages: FeedMessage[] = [];
  readonly closed: Promise<CloseEvent>;
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.onmessage = (e) => this.messages.push(JSON.parse(e.data));
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = (e) => reject(new Error(`socket error: ${(e as ErrorEvent).message}`));
    });
    this.closed = new Promise((resolve) => this.ws.onclose = resolve);
  }

  updates(): FeedUpdate[] {
    return this.messages.filter((m): m is FeedUpdate => m.type === "update");
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

async function text(url: string, status = 200): Promise<string> {
  const r = await fetch(url);
  const body = await r.text();
  assert.equal(r.status, status, `${url}: ${body.slice(0, 200)}`);
  return body;
}

function quietCluster(extra: Parameters<typeof LocalCluster.start>[0] = {}) {
  return LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 2,
    processes: false,
    dashboardAddress: ":0",
    silenceLogs: true,
    ...extra,
  });
}

Deno.test("the feed: a snapshot, then updates whose stream names the prefix, both workers and their threads", async () => {
  await using cluster = await quietCluster();
  await using client = await Client.connect(cluster);
  const base = cluster.dashboardLink!.replace(/\/status$/, "");
  const page = new Page(`${base.replace(/^http/, "ws")}/ws`);
  await page.opened;
  await until(() => page.messages.length > 0, "the snapshot");
  const snap = page.messages[0] as FeedSnapshot;
  assert.equal(snap.type, "snapshot");
  assert.equal(snap.identity.address, cluster.schedulerAddress);
  assert.equal(snap.workers.length, 2);
  assert.ok(snap.workers.every((w) => w.nthreads === 2));

  const futures = client.map(slowinc, Array.from({ length: 500 }, (_, i) => i));
  await client.gather(futures);
  // back-to-back tasks of a thread come as runs: together they span the 500 tasks' 2 ms each
  const covered = () =>
    page.updates().reduce(
      (ms, u) => u.stream.start.reduce((m, start, i) => m + u.stream.stop[i] - start, ms),
      0,
    );
  await until(() => covered() >= 500 * 2, "task-stream entries covering 500 tasks of 2 ms");
  await until(
    () => page.updates().some((u) => u.progress.slowinc?.memory === 500),
    "the slowinc prefix's progress at 500 in memory",
  );

  const workers = new Set<string>(), threads = new Set<number>();
  for (const u of page.updates()) {
    const s = u.stream;
    const n = s.start.length;
    for (const col of [s.worker, s.thread, s.prefix, s.stop, s.kind]) assert.equal(col.length, n);
    for (let i = 0; i < n; i++) {
      assert.equal(s.prefixes[s.prefix[i]], "slowinc");
      assert.equal(s.kind[i], 0);
      assert.ok(s.stop[i] >= s.start[i]);
      assert.ok(Number.isInteger(s.thread[i]) && s.thread[i] >= 0 && s.thread[i] < 2);
      workers.add(s.workers[s.worker[i]]);
      threads.add(s.thread[i]);
    }
  }
  assert.deepEqual([...workers].sort(), cluster.workers.map((w) => w.address).sort());
  assert.deepEqual([...threads].sort(), [0, 1], "both threads of the workers ran tasks");
  const last = page.updates().at(-1)!;
  assert.equal(last.counts.memory, 500);
  await page.close();
});

Deno.test("the pages: workers, exceptions, a task's links, system, JSON and the sitemap", async () => {
  await using cluster = await quietCluster();
  await using client = await Client.connect(cluster);
  const base = cluster.dashboardLink!.replace(/\/status$/, "");
  const x = client.submit((a: number) => a + 1, 1);
  const y = client.submit((a: number) => a * 2, x);
  assert.equal(await y.result(), 4);
  const bad = client.submit(() => {
    throw new RangeError("kaboom <b>");
  });
  await assert.rejects(bad.result(), /kaboom/);

  const workers = await text(`${base}/workers`);
  for (const w of cluster.workers) assert.ok(workers.includes(w.address), workers);
  assert.match(workers, /CPU/);
  assert.match(workers, /running/);
  for (const label of ["Status", "Workers", "Tasks", "Exceptions", "System", "Info"]) {
    assert.match(workers, new RegExp(`<a href="/${label.toLowerCase()}"[^>]*>${label}</a>`));
  }

  const exceptions = await text(`${base}/exceptions`);
  assert.match(exceptions, /RangeError/);
  assert.ok(exceptions.includes("kaboom &#60;b&#62;"), "the message, HTML-escaped");
  assert.ok(!exceptions.includes("kaboom <b>"));
  assert.ok(exceptions.includes(`/info/task/${encodeURIComponent(bad.key)}`));

  const task = await text(`${base}/info/task/${encodeURIComponent(y.key)}`);
  assert.match(task, /memory/);
  assert.ok(task.includes(x.key), "its dependency");
  assert.ok(task.includes(client.id), "the client that wants it");
  const holder = cluster.workers.find((w) => task.includes(w.address));
  assert.ok(holder, "who has it");
  const dep = await text(`${base}/info/task/${encodeURIComponent(x.key)}`);
  assert.ok(dep.includes(y.key), "its dependent");
  const unknown = await text(`${base}/info/task/${encodeURIComponent("no-such <key>")}`, 404);
  assert.ok(unknown.includes("no-such &#60;key&#62;"));

  await until(async () => (await text(`${base}/system`)).includes("<svg"), "a system sample");
  const system = await text(`${base}/system`);
  assert.match(system, /CPU/);
  assert.match(system, /Event-loop lag/);

  const counts = await (await fetch(`${base}/json/counts.json`)).json();
  assert.equal(counts.workers, 2);
  assert.equal(counts.threads, 4);
  assert.equal(counts.clients, 1);
  assert.equal(counts.memory, 2);
  assert.equal(counts.erred, 1);
  const identity = await (await fetch(`${base}/json/identity.json`)).json();
  assert.equal(identity.type, "Scheduler");
  assert.equal(identity.address, cluster.schedulerAddress);
  assert.match(identity.id, /^Scheduler-/);
  assert.deepEqual(
    Object.keys(identity.workers).sort(),
    cluster.workers.map((w) => w.address).sort(),
  );
  const sitemap = await (await fetch(`${base}/sitemap.json`)).json();
  for (const p of ["/status", "/ws", "/workers", "/json/counts.json", "/metrics"]) {
    assert.ok(sitemap.paths.includes(p), p);
  }

  const home = await fetch(`${base}/`, { redirect: "manual" });
  await home.body?.cancel();
  assert.equal(home.status, 302);
  assert.equal(home.headers.get("location"), "/status");
  await text(`${base}/status`);
  await text(`${base}/tasks`);
  await text(`${base}/info`);
  await text(`${base}/static/no-such.js`, 404);
  await text(`${base}/ws`, 400); // not a WebSocket upgrade
  assert.equal(await text(`${base}/health`), "ok");
});

Deno.test("dashboardPrefix puts every route under it, the link included", async () => {
  const cluster = await quietCluster({ dashboardPrefix: "dask/" });
  const page = await (async () => {
    assert.match(cluster.dashboardLink!, /^http:\/\/127\.0\.0\.1:\d+\/dask\/status$/);
    const origin = new URL(cluster.dashboardLink!).origin;
    await text(cluster.dashboardLink!);
    assert.equal(await text(`${origin}/dask/health`), "ok");
    await text(`${origin}/status`, 404);
    await text(`${origin}/health`, 404);
    const sitemap = await (await fetch(`${origin}/dask/sitemap.json`)).json();
    assert.ok(sitemap.paths.every((p: string) => p.startsWith("/dask/")));
    const workers = await text(`${origin}/dask/workers`);
    assert.match(workers, /<a href="\/dask\/exceptions"/);
    const home = await fetch(`${origin}/dask`, { redirect: "manual" });
    await home.body?.cancel();
    assert.equal(home.headers.get("location"), "/dask/status");
    const page = new Page(`ws://${new URL(origin).host}/dask/ws`);
    await page.opened;
    await until(() => page.messages.length > 0, "the snapshot");
    assert.equal(page.messages[0].type, "snapshot");
    return page;
  })().catch(async (e) => {
    await cluster.close();
    throw e;
  });
  // the scheduler closing closes the page's socket
  await cluster.close();
  const closed = await page.closed;
  assert.equal(closed.code, 1001);
});

Deno.test("a dashboardPrefix that is no plain path is refused with a TypeError", async () => {
  // LocalCluster checks its options before it starts anything
  assert.throws(
    () => planCluster({ dashboardPrefix: "/a/../b" }),
    (e: Error) =>
      e instanceof TypeError && /dashboardPrefix must be a plain URL path/.test(e.message),
  );
  await assert.rejects(
    Scheduler.start({ dashboardAddress: ":0", dashboardPrefix: "/a b" }),
    TypeError,
  );
});

Deno.test("scheduler CLI: --dashboard-prefix moves the routes; a bad one stops it with a clear message", async () => {
  const main = new URL("scheduler/main.ts", root).href;
  const sched = spawnDeno([
    main,
    "--port",
    "0",
    "--dashboard-address",
    ":0",
    "--dashboard-prefix",
    "/dask/",
  ]);
  try {
    const [, link] = await readUntil(sched.lines, /^Dashboard at: (http:\/\/\S+\/dask\/status)$/);
    assert.equal(await text(link.replace(/\/status$/, "/health")), "ok");
  } finally {
    await stop(sched);
  }
  const bad = spawnDeno([
    main,
    "--port",
    "0",
    "--dashboard-address",
    ":0",
    "--dashboard-prefix",
    "/a?b",
  ]);
  const status = await drain(bad);
  assert.equal(status.code, 2);
  assert.match(await bad.errText, /--dashboard-prefix: dashboardPrefix must be a plain URL path/);
});
