/**
 * The live dashboard's pages in a real browser (headless Chromium), fed by the fixture feed
 * server: the page loads once and then changes in place, names the prefixes and the workers,
 * draws the task stream, asks nothing of any other host, survives the feed dropping, and works
 * under a path prefix.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { chromiumMissing, foreignRequests, openBrowser } from "../fixtures/browser.ts";
import { startFeedFixture } from "../fixtures/feed_server.ts";
import { until } from "./helpers.ts";

// Skipped only where Chromium is missing outside CI; CI installs it, so there a missing one fails.
const missing = Deno.env.get("CI") ? null : chromiumMissing();
if (missing) console.warn(missing);

/**
 * The task stream's drawn rectangles: the pixels of its plot's tiles that are neither the
 * background nor a row separator.
 */
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

const updates = async (page: Page) => Number(await page.getAttribute("body", "data-updates") ?? 0);
const text = (page: Page, testid: string) => page.locator(`[data-testid="${testid}"]`).innerText();

Deno.test({
  name:
    "status page: updates in place, names prefixes and workers, draws the stream, no outside request",
  ignore: missing !== null,
  async fn() {
    const feed = startFeedFixture();
    const b = await openBrowser();
    try {
      const { page } = b;
      await page.goto(`${feed.base}status`);
      await until(async () => await updates(page) >= 2, "two feed messages on the page");

      const progress = await text(page, "progress");
      assert.match(progress, /slowinc/);
      assert.match(progress, /\badd\b/);
      assert.equal(await page.locator('[data-testid="progress-row"]').count(), 2);
      const workers = await text(page, "workers");
      for (const w of ["worker-a", "worker-b", "tcp://127.0.0.1:40001", "tcp://127.0.0.1:40002"]) {
        assert.ok(workers.includes(w), `the workers table names ${w}: ${workers}`);
      }
      assert.equal(await page.locator('[data-count="workers"]').innerText(), "2");
      assert.equal(await page.locator('[data-count="threads"]').innerText(), "4");
      assert.equal(await page.locator('[data-count="clients"]').innerText(), "1");

      const before = await text(page, "progress");
      await until(
        async () => await text(page, "progress") !== before,
        "the progress text to change",
      );
      const seen = await updates(page);
      await until(async () => await updates(page) >= seen + 5, "five more updates");

      await until(async () => await streamPixels(page) > 2_000, "task-stream rectangles drawn");
      const drawn = Number(await page.getAttribute("#task-stream", "data-entries"));
      assert.ok(drawn > 1_000, `thousands of entries in the window, got ${drawn}`);
      assert.equal(await page.getAttribute("#task-stream", "data-rows"), "4");
      assert.equal(await page.getAttribute('[data-testid="connection"]', "data-state"), "open");

      await b.screenshot("status");
      assert.deepEqual(b.navigations, [`${feed.base}status`], "the page navigated once");
      assert.deepEqual(b.errors, []);
      assert.deepEqual(foreignRequests(b.requests, feed.base), []);
      assert.ok(b.requests.includes(`${feed.base.replace("http", "ws")}ws`), "the feed socket");
    } finally {
      await b.close();
      await feed.close();
    }
  },
});

Deno.test({
  name: "status page under /dask/: says it is disconnected when the feed drops, then reconnects",
  ignore: missing !== null,
  async fn() {
    const feed = startFeedFixture("/dask");
    const b = await openBrowser();
    try {
      const { page } = b;
      const state = () => page.getAttribute('[data-testid="connection"]', "data-state");
      await page.goto(`${feed.base}status`);
      await until(async () => await updates(page) >= 1 && await state() === "open", "the feed");
      assert.equal(feed.accepted, 1);

      feed.refuse = true;
      await feed.dropSockets();
      await until(async () => await state() === "closed", "the page to see the feed closed");
      assert.match(await text(page, "connection"), /disconnected, retrying/);

      feed.refuse = false;
      const seen = await updates(page);
      await until(async () => await state() === "open", "the page to reconnect");
      await until(async () => await updates(page) > seen + 2, "updates after reconnecting");
      assert.ok(feed.accepted >= 2, `a second socket, got ${feed.accepted}`);
      assert.match(await text(page, "progress"), /slowinc/);
      assert.equal(await page.locator('[data-testid="worker-row"]').count(), 2);

      await b.screenshot("status-reconnected");
      assert.equal(b.navigations.length, 1, "no reload");
      // While the feed refused, the browser reports each failed handshake: those are expected.
      const unexpected = b.errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
      assert.deepEqual(unexpected, []);
      assert.deepEqual(foreignRequests(b.requests, feed.base), []);
      const outside = b.requests.filter((u) => !new URL(u).pathname.startsWith("/dask/"));
      assert.deepEqual(outside, [], "every request stays under the /dask/ prefix");
    } finally {
      await b.close();
      await feed.close();
    }
  },
});

Deno.test({
  name: "tasks page under /dask/: the longer task stream from the same module",
  ignore: missing !== null,
  async fn() {
    const feed = startFeedFixture("/dask");
    const b = await openBrowser();
    try {
      const { page } = b;
      await page.goto(`${feed.base}tasks`);
      await until(async () => await updates(page) >= 2, "two feed messages on the page");
      assert.equal(await page.getAttribute("#task-stream", "data-window"), "60000");
      await until(async () => await streamPixels(page) > 1_000, "task-stream rectangles drawn");
      assert.equal(await page.getAttribute("#task-stream", "data-rows"), "4");
      const legend = await text(page, "stream-legend");
      for (const name of ["slowinc", "add", "transfer", "disk-write", "erred"]) {
        assert.ok(legend.includes(name), `the legend names ${name}: ${legend}`);
      }
      await b.screenshot("tasks");
      assert.deepEqual(b.errors, []);
      assert.deepEqual(foreignRequests(b.requests, feed.base), []);
    } finally {
      await b.close();
      await feed.close();
    }
  },
});
