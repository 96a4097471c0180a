// Each worker's last log lines: client.getWorkerLogs (Dask's get_worker_logs) and the
// dashboard's worker page, linked from /workers.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";

async function text(url: string, status = 200): Promise<string> {
  const r = await fetch(url);
  const body = await r.text();
  assert.equal(r.status, status, `${url}: ${body.slice(0, 200)}`);
  return body;
}

Deno.test("getWorkerLogs: [level, message] lines by worker; the worker page shows them", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: ":0",
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const addresses = cluster.workers.map((w) => w.address).sort();

  const logs = await client.getWorkerLogs();
  assert.deepEqual(Object.keys(logs).sort(), addresses);
  for (const [address, lines] of Object.entries(logs)) {
    assert.ok(lines.length > 0, `no line from ${address}`);
    for (const [level, message] of lines) {
      assert.match(level, /^(INFO|WARNING|ERROR)$/);
      assert.equal(typeof message, "string");
    }
    assert.ok(
      lines.some(([, m]) => m.includes(`Start worker at: ${address}`)),
      JSON.stringify(lines),
    );
  }
  // by address or name; a worker nobody knows adds nothing
  const name = (await client.schedulerInfo()).workers[addresses[1]].name;
  assert.deepEqual(Object.keys(await client.getWorkerLogs([addresses[0]])), [addresses[0]]);
  assert.deepEqual(Object.keys(await client.getWorkerLogs([name, "tcp://nobody:1"])), [
    addresses[1],
  ]);
  await assert.rejects(
    client.getWorkerLogs([1 as unknown as string]),
    (e: Error) => e instanceof TypeError && /addresses or names/.test(e.message),
  );

  const base = cluster.dashboardLink!.replace(/\/status$/, "");
  const workers = await text(`${base}/workers`);
  for (const address of addresses) {
    const href = `/info/worker/${encodeURIComponent(address)}`;
    assert.ok(workers.includes(href), `/workers links no ${href}`);
    const page = await text(`${base}${href}`);
    assert.ok(page.includes(`Start worker at: ${address}`), page);
    assert.match(page, /<h2 id="logs">Logs \(\d+\)<\/h2>/);
    assert.match(page, />INFO</);
  }
  const unknown = await text(`${base}/info/worker/${encodeURIComponent("tcp://no <one>:1")}`, 404);
  assert.ok(unknown.includes("tcp://no &#60;one&#62;:1"), unknown);
  assert.ok(!unknown.includes("<one>"));
});
