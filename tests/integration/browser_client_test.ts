/**
 * The browser client in a real browser (headless Chromium): the bundle `deno task bundle` makes
 * of client/mod.ts, imported by a page, connects to a LocalCluster's WebSocket listener, maps a
 * function written in the page over 0..19, and shows the results; no console error, and no
 * request to any host but the page's and the scheduler's WebSocket.
 */
import assert from "node:assert/strict";
import { LocalCluster } from "../../mod.ts";
import { chromiumMissing, foreignRequests, openBrowser } from "../fixtures/browser.ts";

// Skipped only where Chromium is missing outside CI; CI installs it, so there a missing one fails.
const missing = Deno.env.get("CI") ? null : chromiumMissing();
if (missing) console.warn(missing);

const ROOT = new URL("../../", import.meta.url);

/** Bundles client/mod.ts for browsers, as `deno task bundle` does, into `dir`/client.js. */
async function bundle(dir: string): Promise<string> {
  const out = `${dir}/client.js`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform",
      "browser",
      "--config",
      new URL("deno.json", ROOT).pathname,
      "--output",
      out,
      new URL("client/mod.ts", ROOT).pathname,
    ],
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  return await Deno.readTextFile(out);
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>dtask in a browser</title></head>
<body>
<p>results: <output id="results"></output></p>
<p>scattered: <output id="scattered"></output></p>
<script type="module">
import { Client } from "./client.js";
const ws = new URLSearchParams(location.search).get("ws");
try {
  const client = await Client.connect(ws, { timeout: 10000 });
  const xs = Array.from({ length: 20 }, (_, i) => i);
  const futures = client.map((x) => x * 10, xs);
  document.querySelector("#results").textContent = JSON.stringify(await client.gather(futures));
  const data = client.scatter(new Float64Array(100000).fill(0.5));
  const sum = client.submit((a) => a.reduce((s, x) => s + x, 0), data);
  document.querySelector("#scattered").textContent = String(await sum);
  await client.close();
  document.body.dataset.state = "done";
} catch (e) {
  document.body.dataset.state = "failed: " + (e && e.stack || e);
}
</script>
</body></html>`;

Deno.test({
  name: "a page that imports the bundled client maps functions on the cluster over WebSocket",
  ignore: missing !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dtask-browser-client-" });
    try {
      const code = await bundle(dir);
      await using cluster = await LocalCluster.start({
        nWorkers: 1,
        threadsPerWorker: 2,
        processes: false,
        dashboardAddress: null,
        silenceLogs: true,
        wsPort: 0,
      });
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/client.js") {
          return new Response(code, { headers: { "content-type": "text/javascript" } });
        }
        if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
        return new Response("not found", { status: 404 });
      });
      const base = `http://127.0.0.1:${server.addr.port}/`;
      const b = await openBrowser();
      try {
        const { page } = b;
        await page.goto(`${base}?ws=${encodeURIComponent(cluster.wsAddress!)}`);
        await page.waitForSelector("body[data-state]", { timeout: 30_000 });
        const state = await page.getAttribute("body", "data-state");
        assert.equal(state, "done");
        const results = JSON.parse(await page.locator("#results").innerText());
        assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i * 10));
        assert.equal(await page.locator("#scattered").innerText(), "50000");
        assert.deepEqual(b.errors, []);
        const socket = new URL(cluster.wsAddress!).href;
        const others = foreignRequests(b.requests, base).filter((u) => u !== socket);
        assert.deepEqual(others, [], "requests only to the page's host and the scheduler");
        assert.ok(b.requests.includes(socket), "the page opened the scheduler's socket");
      } finally {
        await b.close();
        await server.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
