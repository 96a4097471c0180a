// The scheduler's HTTP server: /health, /metrics with dtask_ names, a taken port.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";

Deno.test("/health and /metrics answer with Prometheus text prefixed dtask_", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: ":0",
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  assert.deepEqual(await client.gather(client.map((x: number) => x, [1, 2, 3])), [1, 2, 3]);
  const base = cluster.dashboardLink!.replace(/\/status$/, "");
  const health = await fetch(`${base}/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), "ok");
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /^dtask_workers 1$/m);
  assert.match(metrics, /^dtask_tasks\{state="memory"\} \d+$/m);
  assert.match(metrics, /^dtask_tasks\{state="processing"\} 0$/m);
  assert.match(metrics, /^dtask_tasks_completed_total 3$/m);
  for (const type of ["managed", "unmanaged", "spilled"]) {
    const sample = new RegExp(
      `^dtask_worker_memory_bytes\\{worker="inproc://[^"]+",type="${type}"\\} \\d+$`,
      "m",
    );
    assert.match(metrics, sample);
  }
  assert.match(metrics, /^dtask_worker_spill_bytes_total\{worker="inproc:\/\/[^"]+"\} 0$/m);
  assert.match(metrics, /^dtask_worker_spill_seconds_total\{worker="inproc:\/\/[^"]+"\} 0$/m);
  assert.match(metrics, /^dtask_worker_status\{worker="inproc:\/\/[^"]+",status="running"\} 1$/m);
  assert.match(metrics, /^dtask_worker_status\{worker="inproc:\/\/[^"]+",status="paused"\} 0$/m);
  for (const line of metrics.split("\n")) {
    if (line && !line.startsWith("#")) assert.match(line, /^dtask_/);
  }
  const page = await fetch(cluster.dashboardLink!);
  assert.equal(page.status, 200);
  // the live page: its script and styles come from the scheduler itself
  const html = await page.text();
  assert.match(html, /<title>dtask: status<\/title>/);
  assert.match(html, /src="static\/dashboard\.js"/);
  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("a taken dashboard port falls back to a free one with a warning", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const warnings: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => warnings.push(a.join(" "));
  try {
    await using cluster = await LocalCluster.start({
      nWorkers: 1,
      processes: false,
      dashboardAddress: `:${port}`,
    });
    const got = Number(new URL(cluster.dashboardLink!).port);
    assert.notEqual(got, port);
    const r = await fetch(cluster.dashboardLink!.replace("/status", "/health"));
    assert.equal(await r.text(), "ok");
  } finally {
    console.error = orig;
    taken.close();
  }
  assert.ok(
    warnings.some((w) => w.includes(`Port ${port} is already in use`)),
    warnings.join("\n"),
  );
});

Deno.test("dashboardAddress: null serves no HTTP", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 0,
    processes: false,
    dashboardAddress: null,
  });
  assert.equal(cluster.dashboardLink, null);
});
