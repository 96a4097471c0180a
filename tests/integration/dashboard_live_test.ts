/**
 * The live dashboard of a real cluster in headless Chromium: a LocalCluster with 2 worker
 * processes runs 4,000 tasks of 5 ms while the page at `cluster.dashboardLink` is open. The page
 * navigates once, changes while the tasks run, names the task prefix and every worker, draws the
 * task stream, logs no console error and asks nothing of any other host. A performance report of
 * the same kind of work renders in Chromium with no console error and no request at all.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { chromiumMissing, foreignRequests, openBrowser } from "../fixtures/browser.ts";
import { Client, LocalCluster, performanceReport, wait } from "../../mod.ts";
import { until } from "./helpers.ts";

// Skipped only where Chromium is missing outside CI; CI installs it, so there a missing one fails.
const missing = Deno.env.get("CI") ? null : chromiumMissing();
if (missing) console.warn(missing);

/** The task stream's drawn pixels: its plot's tiles, less the background and row separators. */
function streamPixels(page: Page): Promise<number> {
  return page.$$eval("#task-stream .task-stream-tiles canvas", (tiles: any[]) => {
    let n = 0;
    for (const c of tiles) {
      const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < px.length; i += 4) {
        const r = px[i], g = px[i + 1], b = px[i + 2];
        if ((r < 250 || g < 250 || b < 250) && !(r === 204 && g === 204 && b === 204)) n++;
      }
    }
    return n;
  });
}

/** A task of about 5 ms. */
function slowinc(x: number): number {
  const until = performance.now() + 5;
  while (performance.now() < until) { /* busy, as a CPU-bound task is */ }
  return x + 1;
}

Deno.test({
  name: "dashboard: a real cluster's /status in Chromium while 4,000 tasks of 5 ms run",
  ignore: missing !== null,
  async fn() {
    await using cluster = await LocalCluster.start({
      nWorkers: 2,
      threadsPerWorker: 1,
      dashboardAddress: "127.0.0.1:0",
      silenceLogs: true,
    });
    await using client = await Client.connect(cluster);
    const link = cluster.dashboardLink!;
    const base = link.replace(/status$/, "");
    const b = await openBrowser();
    try {
      const { page } = b;
      await page.goto(link);
      await until(
        async () => await page.getAttribute('[data-testid="connection"]', "data-state") === "open",
        "the page's feed to open",
      );
      const idle = await page.locator('[data-testid="progress"]').innerText();
      const futures = client.map(slowinc, Array.from({ length: 4_000 }, (_, i) => i));
      await until(
        async () => await page.locator('[data-testid="progress"]').innerText() !== idle,
        "the progress text to change while the tasks run",
      );
      await until(async () => await streamPixels(page) > 500, "task-stream rectangles drawn");
      const progress = await page.locator('[data-testid="progress"]').innerText();
      assert.match(progress, /slowinc/, "the task prefix is named");
      const workers = await page.locator('[data-testid="workers"]').innerText();
      for (const w of cluster.workers) {
        assert.ok(workers.includes(w.address), `the page names worker ${w.address}: ${workers}`);
      }
      await b.screenshot("live-status");
      await wait(futures);
      await until(
        async () =>
          /4000 \/ 4000|4,000 \/ 4,000/.test(
            await page.locator('[data-testid="progress"]').innerText(),
          ),
        "all 4,000 done on the page",
      );
      assert.deepEqual(b.navigations, [link], "the page navigated once");
      assert.deepEqual(b.errors, [], "no console error");
      assert.deepEqual(foreignRequests(b.requests, base), [], "no request to another host");
      client.release(futures);
    } finally {
      await b.close();
    }
  },
});

Deno.test({
  name: "performanceReport: Chromium renders the report offline with no console error",
  ignore: missing !== null,
  async fn() {
    await using cluster = await LocalCluster.start({
      nWorkers: 2,
      threadsPerWorker: 1,
      processes: false,
      dashboardAddress: null,
      silenceLogs: true,
    });
    await using client = await Client.connect(cluster);
    const dir = await Deno.makeTempDir();
    const b = await openBrowser();
    try {
      const path = `${dir}/report.html`;
      await performanceReport(path, async () => {
        await client.gather(client.map(slowinc, Array.from({ length: 200 }, (_, i) => i)));
      });
      const url = new URL(`file://${path}`).href;
      await b.page.goto(url);
      assert.match(await b.page.locator("body").innerText(), /slowinc/);
      await b.screenshot("performance-report");
      assert.deepEqual(b.errors, [], "no console error");
      assert.deepEqual(b.requests.filter((r) => r !== url), [], "it loads nothing else");
    } finally {
      await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
