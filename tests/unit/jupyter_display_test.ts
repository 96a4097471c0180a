// Notebook displays (`deno jupyter` calls `[Symbol.for("Jupyter.display")]()`): Client,
// LocalCluster and Future, with everything HTML-escaped.
import assert from "node:assert/strict";
import { Client, type DisplayBundle, LocalCluster } from "../../mod.ts";

const DISPLAY = Symbol.for("Jupyter.display");

function display(x: unknown): DisplayBundle {
  const fn = (x as Record<symbol, () => DisplayBundle>)[DISPLAY];
  assert.equal(typeof fn, "function");
  const bundle = fn.call(x);
  assert.equal(typeof bundle["text/html"], "string");
  assert.equal(typeof bundle["text/plain"], "string");
  return bundle;
}

function startCluster(dashboardAddress: string | null = null) {
  return LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 2,
    processes: false,
    memoryLimit: 2 ** 30,
    dashboardAddress,
  });
}

Deno.test("jupyter display: a LocalCluster shows its scheduler, dashboard link, workers, threads, memory", async () => {
  await using cluster = await startCluster(":0");
  const { "text/html": html, "text/plain": text } = display(cluster);
  assert.ok(cluster.dashboardLink?.startsWith("http://"));
  assert.ok(html.includes(`<a href="${cluster.dashboardLink}" target="_blank">`));
  assert.ok(html.includes(cluster.schedulerAddress));
  assert.match(html, /<th>Workers<\/th><td>2<\/td>/);
  assert.match(html, /<th>Total threads<\/th><td>4<\/td>/);
  assert.match(html, /<th>Total memory<\/th><td>2\.00 GiB<\/td>/);
  assert.match(text, /^LocalCluster\n/);
  assert.match(text, /Workers: 2\n/);
  await cluster.close();
  assert.match(display(cluster)["text/plain"], /Status: closed/);
});

Deno.test("jupyter display: a Client through its cluster knows the workers at once", async () => {
  await using cluster = await startCluster();
  await using client = await Client.connect(cluster);
  const { "text/html": html, "text/plain": text } = display(client);
  assert.match(html, /<th>Workers<\/th><td>2<\/td>/);
  assert.match(html, /<th>Total threads<\/th><td>4<\/td>/);
  assert.match(html, /<th>Dashboard<\/th><td>none<\/td>/);
  assert.match(text, /Scheduler: tcp:\/\/127\.0\.0\.1:\d+/);
  assert.match(text, /Status: running/);
});

Deno.test("jupyter display: a Client by address shows the last schedulerInfo() answer, and says so", async () => {
  await using cluster = await startCluster();
  await using client = await Client.connect(cluster.schedulerAddress);
  const before = display(client)["text/plain"];
  assert.match(before, /Workers: unknown/);
  assert.match(before, /await client\.schedulerInfo\(\)/);
  await client.schedulerInfo();
  const after = display(client);
  assert.match(after["text/html"], /<th>Workers<\/th><td>2<\/td>/);
  assert.match(after["text/html"], /<th>Total memory<\/th><td>2\.00 GiB<\/td>/);
  assert.match(after["text/plain"], /as of the last schedulerInfo\(\) call/);
});

Deno.test("jupyter display: a Future shows key, status and type, escaped", async () => {
  await using cluster = await startCluster();
  await using client = await Client.connect(cluster);
  const key = `<b>&"x'</b>`;
  const f = client.with({ key }).submit((n: number) => new Map([[n, n]]), 1);
  const pending = display(f);
  assert.ok(!pending["text/html"].includes("<b>"));
  assert.ok(pending["text/html"].includes("&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;"));
  await f;
  const done = display(f);
  assert.match(done["text/html"], /status: finished/);
  assert.match(done["text/html"], /type: Map/);
  assert.equal(done["text/plain"], `<Future: finished, type: Map, key: ${key}>`);
  const bad = client.submit((x: number) => {
    throw new RangeError(`no ${x}`);
  }, 1);
  await assert.rejects(bad.result());
  assert.match(display(bad)["text/plain"], /^<Future: error, type: RangeError, key: lambda-/);
});
