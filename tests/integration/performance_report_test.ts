// performanceReport(): one self-contained HTML page about a run, written also when it throws.
import assert from "node:assert/strict";
import { Client, LocalCluster, performanceReport } from "../../mod.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { until } from "./helpers.ts";

const slowinc = async (x: number) => {
  await new Promise((r) => setTimeout(r, 5));
  return x + 1;
};
const double = (x: number) => 2 * x;

function startCluster() {
  return LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
  });
}

/** The report's embedded data. */
function embedded(html: string) {
  const m = html.match(
    /<script type="application\/json" id="dtask-report-data">([\s\S]*?)<\/script>/,
  );
  assert.ok(m, "no embedded data");
  return JSON.parse(m[1]);
}

/** Asserts that the page loads nothing: no src, no href but `#` anchors, no URL at all. */
function assertSelfContained(html: string) {
  assert.doesNotMatch(html, /\bsrc\s*=/i);
  for (const m of html.matchAll(/\bhref\s*=\s*["']?([^"'\s>]*)/gi)) {
    assert.ok(m[1].startsWith("#"), `a link out: ${m[0]}`);
  }
  assert.doesNotMatch(html, /https?:\/\//i);
  assert.doesNotMatch(html, /<link\b|@import|url\(|@font-face/i);
}

/** Runs the page's inline scripts against an empty document: they must parse and run. */
function runInlineScripts(html: string) {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  assert.ok(scripts.length >= 1);
  const document = { querySelectorAll: () => [] };
  for (const s of scripts) new Function("document", s)(document);
}

Deno.test("performanceReport: the page names the prefixes, has memory samples and loads nothing", async () => {
  await using cluster = await startCluster();
  await using client = await Client.connect(cluster);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/report.html`;
    const result = await performanceReport(path, async () => {
      const xs = client.map(slowinc, Array.from({ length: 40 }, (_, i) => i));
      const ys = client.map(double, xs);
      await new Promise((r) => setTimeout(r, 300)); // a run long enough for a few samples
      return (await client.gather(ys)).reduce((a, b) => a + b, 0);
    }, { client, sampleInterval: 50 });
    assert.equal(result, 2 * (40 * 41) / 2);
    const html = await Deno.readTextFile(path);
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<\/html>\s*$/);
    assertSelfContained(html);
    runInlineScripts(html);
    assert.match(html, />slowinc</);
    assert.match(html, />double</);
    assert.ok(html.includes(`dtask ${denoJson.version}`));
    assert.match(html, /<svg[^>]*aria-label="Task stream"/);
    assert.match(html, /<svg[^>]*aria-label="Cluster memory"/);
    const data = embedded(html);
    // the tasks, and maybe a few transfers of slowinc values between the two workers
    const computes = data.tasks.filter((t: { action: string }) => t.action === "compute");
    assert.equal(computes.length, 80);
    assert.deepEqual(
      data.prefixes.map((p: { prefix: string }) => p.prefix).sort(),
      ["double", "slowinc"],
    );
    assert.ok(data.memory.length >= 2, `${data.memory.length} memory samples`);
    const workers = cluster.workers.map((w) => w.address).sort();
    for (const sample of data.memory) {
      assert.deepEqual(Object.keys(sample.workers).sort(), workers);
      for (const w of Object.values(sample.workers) as Record<string, unknown>[]) {
        for (const kind of ["managed", "unmanaged", "spilled", "rss"]) {
          assert.ok(typeof w[kind] === "number" && w[kind] >= 0, `${kind}: ${w[kind]}`);
        }
        assert.equal(w.status, "running");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("performanceReport: a run that throws still writes its report, then the error; the default client", async () => {
  await using cluster = await startCluster();
  await using client = await Client.connect(cluster);
  assert.equal(Client.current(), client, "the newest open client is the default");
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/failed.html`;
    const boom = (x: number) => {
      if (x === 3) throw new RangeError("three is too many");
      return x;
    };
    await assert.rejects(
      performanceReport(path, async () => {
        await client.gather(client.map(boom, [1, 2, 3, 4]));
      }), // no { client }: the default one
      (e: Error) => e.name === "RangeError" && /three is too many/.test(e.message),
    );
    const html = await Deno.readTextFile(path);
    assertSelfContained(html);
    assert.match(html, /The run threw RangeError: three is too many/);
    assert.match(html, />boom</);
    const data = embedded(html);
    assert.ok(data.prefixes[0].erred >= 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("performanceReport: a value fetched from a peer is a transfer, drawn and summed up", async () => {
  await using cluster = await startCluster();
  await using client = await Client.connect(cluster);
  const [a, b] = cluster.workers.map((w) => w.address);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/transfer.html`;
    await performanceReport(path, async () => {
      const made = client.with({ workers: [a] }).submit((n: number) => new Uint8Array(n), 1 << 20);
      const used = client.with({ workers: [b] }).submit((v: Uint8Array) => v.length, made);
      assert.equal(await used, 1 << 20);
      // the transfer reaches the scheduler with B's next heartbeat
      await until(
        async () => (await client.getTaskStream()).some((t) => t.action === "transfer"),
        "a transfer",
      );
    }, { client });
    const html = await Deno.readTextFile(path);
    assertSelfContained(html);
    runInlineScripts(html);
    const data = embedded(html);
    const transfer = data.tasks.find((t: { action: string }) => t.action === "transfer");
    assert.ok(transfer, "no transfer in the report's data");
    assert.equal(transfer.worker, b);
    assert.ok(transfer.nbytes >= 1 << 20);
    assert.deepEqual(data.io.map((t: { action: string }) => t.action), ["transfer"]);
    assert.match(html, /<rect[^>]*fill="#d62728" data-action="transfer"/);
    assert.match(html, /<table class="sortable" id="io">[\s\S]*>transfer</);
    assert.doesNotMatch(html, /Not recorded/);
    assert.deepEqual(data.prefixes.map((p: { prefix: string }) => p.prefix).sort(), ["lambda"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("performanceReport: with no client open, a TypeError that says to connect one", async () => {
  assert.throws(() => Client.current(), /no client is open/);
  await assert.rejects(
    performanceReport("never.html", () => 1),
    (e: Error) => e instanceof TypeError && /pass \{ client \}/.test(e.message),
  );
});
