/** The dashboard page's pure modules, outside a browser: the stream ring, colours, feed URL. */
import assert from "node:assert/strict";
import { StreamRing } from "../../dashboard/assets/stream_ring.js";
import { hashName, KIND_COLOURS, prefixColour } from "../../dashboard/assets/palette.js";
import { feedUrl } from "../../dashboard/assets/feed_client.js";
import { STREAM_KINDS } from "../../dashboard/feed_protocol.ts";
import { assetResponse, cachedAssetCount } from "../../dashboard/assets.ts";

function stream(n: number, from: number, kind = 0) {
  return {
    workers: ["tcp://a:1", "tcp://b:2"],
    prefixes: ["inc", "add"],
    worker: Array.from({ length: n }, (_, i) => i % 2),
    thread: Array.from({ length: n }, (_, i) => i % 3),
    prefix: Array.from({ length: n }, (_, i) => i % 2),
    start: Array.from({ length: n }, (_, i) => from + i),
    stop: Array.from({ length: n }, (_, i) => from + i + 0.5),
    kind: Array.from({ length: n }, () => kind),
  };
}

Deno.test("stream ring: keeps the newest entries when full, drops old ones by time", () => {
  const ring = new StreamRing(8);
  ring.add(stream(5, 0));
  ring.add(stream(6, 100));
  assert.equal(ring.size, 8);
  const starts = Array.from({ length: ring.size }, (_, k) => ring.start[(ring.first + k) % 8]);
  assert.deepEqual(starts, [3, 4, 100, 101, 102, 103, 104, 105]);
  assert.deepEqual(ring.workers, ["tcp://a:1", "tcp://b:2"]);
  assert.equal(ring.maxThread[0], 2);
  ring.dropBefore(101);
  assert.equal(ring.size, 5);
  assert.equal(ring.start[ring.first], 101);
  ring.clear();
  assert.equal(ring.size, 0);
});

Deno.test("stream ring: compute entries take their prefix's colour, others their kind's", () => {
  const ring = new StreamRing(16);
  ring.add(stream(2, 0, 0));
  ring.add(stream(1, 10, 2));
  ring.add(stream(1, 20, 1));
  const colours = [0, 1, 2, 3].map((i) => ring.colours[ring.colour[i]]);
  assert.deepEqual(colours, [prefixColour("inc"), prefixColour("add"), KIND_COLOURS[2], "#000000"]);
});

Deno.test("palette: a prefix's colour is stable and the kinds follow the feed protocol", () => {
  assert.equal(hashName("slowinc"), hashName("slowinc"));
  assert.equal(prefixColour("slowinc"), prefixColour("slowinc"));
  assert.notEqual(prefixColour("slowinc"), prefixColour("add"));
  assert.equal(KIND_COLOURS.length, STREAM_KINDS.length);
});

Deno.test("feed URL: `ws` beside the page, ws or wss, under any path prefix", () => {
  assert.equal(feedUrl("http://h:8787/status"), "ws://h:8787/ws");
  assert.equal(feedUrl("https://h/dask/status?x=1#y"), "wss://h/dask/ws");
  assert.equal(feedUrl("http://h:8787/dask/tasks"), "ws://h:8787/dask/ws");
});

Deno.test("assets: every page, script and stylesheet of the dashboard is served", async () => {
  for (
    const name of [
      "status.html",
      "tasks.html",
      "dashboard.css",
      "dashboard.js",
      "task_stream.js",
      "stream_ring.js",
      "palette.js",
      "bars.js",
      "workers_view.js",
      "feed_client.js",
      "frame_loop.js",
      "stream_tiles.js",
    ]
  ) {
    const res = await assetResponse(name);
    assert.ok(res, `${name} is served`);
    await res.body?.cancel();
  }
});

Deno.test("assets: names that are no shipped file are answered null and not cached", async () => {
  assert.ok(await assetResponse("dashboard.js"));
  const before = cachedAssetCount();
  for (let i = 0; i < 50; i++) assert.equal(await assetResponse(`missing-${i}.js`), null);
  assert.equal(cachedAssetCount(), before);
});
