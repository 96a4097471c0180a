/**
 * A worker's memory decisions (MemoryBook), driven directly: a recording outbox stands for the
 * actor and its spill store, and the book's invariants are checked after every step.
 */
import assert from "node:assert/strict";
import { MemoryBook } from "../../worker/memory_state.ts";
import { resolveMemoryConfig } from "../../worker/memory_config.ts";
import { WARNING_INTERVAL_MS } from "../../worker/memory_warnings.ts";
import {
  bookOf,
  checked,
  keysWhere,
  RecordingOutbox,
  value,
  writeAll,
} from "../fixtures/memory_book_harness.ts";

Deno.test("values past the target spill least recently used first; reading one back spills the next (Dask's spill target test)", () => {
  const { b, out } = bookOf({ limit: 2000, target: 1200 });
  b.put("x", value(500));
  b.put("y", value(500));
  assert.deepEqual(out.take(), []);
  b.put("z", value(500));
  assert.deepEqual(out.take(), ["spill 1"]);
  assert.equal(b.where("x"), "writing");
  assert.equal(b.peek("x")?.nbytes, 500, "in memory until written");
  writeAll(b, out);
  assert.deepEqual(keysWhere(b, "disk"), ["x"]);
  assert.equal(b.managed, 1000);
  assert.equal(b.spilled, 500);
  assert.equal(b.diskBytes, 504);

  assert.equal(b.acquire("x"), undefined, "on disk: a read starts");
  assert.deepEqual(out.take(), ["unspill 1"]);
  assert.equal(b.acquire("x"), undefined, "a second reader waits for the same read");
  assert.deepEqual(out.take(), []);
  assert.equal(b.loaded(1, value(500)), "x");
  assert.deepEqual(out.take(), ["spill 2"], "y, the oldest, spills; x is pinned");
  assert.equal(b.where("y"), "writing");
  assert.equal(b.where("x"), "both");
  b.release("x");
  b.release("x");
  assert.equal(b.spilled, 0);
  assert.equal(b.diskBytes, 504, "x keeps its file as a clean copy");
});

Deno.test("the most recent value stays in memory even alone over the target", () => {
  const { b, out } = bookOf({ limit: 2000, target: 1200 });
  b.put("a", value(1100));
  b.put("b", value(1100));
  assert.deepEqual(out.take(), ["spill 1"]);
  writeAll(b, out);
  assert.equal(b.where("b"), "memory");
  assert.equal(b.put("big", value(1500)), "write-through", "over the target on its own");
  assert.deepEqual(out.take(), ["spill 2"], "written at once; b stays: the newest in the LRU");
  writeAll(b, out);
  assert.deepEqual(out.take(), ["spill 3"], "once written, big is the newest: b spills");
  writeAll(b, out);
  assert.equal(b.where("big"), "both");
  assert.equal(b.peek("big")?.nbytes, 1500);
  assert.equal(b.managed, 1500, "over the target, alone");
});

Deno.test("a use reorders: a value acquired and released is the most recent", () => {
  const { b, out } = bookOf({ target: 1000 });
  for (const k of ["a", "b", "c"]) b.put(k, value(300));
  b.acquire("a");
  b.release("a");
  b.put("d", value(300));
  assert.deepEqual(out.take(), ["spill 1"]);
  assert.equal(b.where("b"), "writing", "b, not a, is the least recently used");
  assert.equal(b.where("a"), "memory");
});

Deno.test("pinned values never spill; released, they are the most recent", () => {
  const { b, out } = bookOf({ target: 1000 });
  b.put("a", value(400));
  b.put("b", value(400));
  assert.equal(b.acquire("a")?.nbytes, 400);
  b.put("c", value(400));
  b.put("d", value(400));
  assert.deepEqual(keysWhere(b, "writing"), ["b", "c"]);
  writeAll(b, out);
  out.take();
  b.release("a");
  assert.deepEqual(out.take(), [], "a and d: 800 bytes, under the target");
  b.put("e", value(400));
  assert.deepEqual(keysWhere(b, "writing"), ["d"], "d is older than the released a");
  assert.equal(b.where("a"), "memory");
  b.release("a");
  b.release("nothing");
  assert.equal(b.where("a"), "memory", "an extra release does nothing");
});

Deno.test("a clean copy (read back, file kept) spills again without a write", () => {
  const { b, out } = bookOf({ target: 1000 });
  b.put("x", value(600));
  b.put("y", value(600));
  writeAll(b, out);
  out.take();
  b.acquire("x");
  b.loaded(1, value(600));
  assert.deepEqual(out.take(), ["unspill 1"], "y stays: the newest of the unpinned values");
  b.release("x");
  assert.deepEqual(out.take(), ["spill 2"], "x is the newest now: y spills");
  writeAll(b, out);
  b.put("z", value(600));
  assert.deepEqual(out.take(), [], "x leaves memory with no write and no read");
  assert.deepEqual(keysWhere(b, "disk").sort(), ["x", "y"]);
  assert.equal(b.spilled, 1200);
  assert.equal(b.diskBytes, 1200);
});

Deno.test("maxSpill stops the pass, keeps values over the target in memory, and warns at most once per 5 minutes", () => {
  const { b, out } = bookOf({ target: 600, maxSpill: 600 });
  b.put("a", value(500));
  b.put("b", value(500));
  assert.deepEqual(out.take(), ["spill 1"], "504 bytes on disk of 600");
  b.put("c", value(500));
  assert.deepEqual(out.take(), ["warn max-spill"], "b would not fit: the pass stops");
  assert.match(out.warnings[0][1], /^Spill file on disk reached capacity; keeping data in memory/);
  writeAll(b, out);
  b.put("d", value(500));
  assert.equal(b.put("big", value(700)), "memory", "over the target, but no room on disk");
  assert.deepEqual(out.take(), [], "the warning is not repeated within 5 minutes");
  assert.deepEqual(keysWhere(b, "memory"), ["b", "c", "d", "big"]);
  b.sample(0, WARNING_INTERVAL_MS - 1);
  b.put("e", value(500));
  assert.deepEqual(out.take(), []);
  b.sample(0, WARNING_INTERVAL_MS);
  b.put("f", value(500));
  assert.deepEqual(out.take(), ["warn max-spill"], "5 minutes later it is given again");
});

/**
 * Dask's spill hysteresis test: 8 values of 50 bytes and 350 bytes of unmanaged memory put the
 * process at 750 of 1000, past the spill threshold (700). Spilling goes down to the target
 * (hysteresis: 7 values with a target of 400), or only to the spill threshold (1 value) when the
 * target equals it or is off. The store answers every write at once; the process frees the memory
 * of spilled values only at a garbage collection, so a tick without `awaitingGc` would spill more.
 */
for (const [target, spilled] of [[null, 1], [700, 1], [400, 7]] as const) {
  Deno.test(`spilling on process memory stops at the target (target ${target}: ${spilled} spilled)`, () => {
    const { b, out } = bookOf({ spill: 700, target });
    for (let i = 0; i < 8; i++) b.put(`v${i}`, value(50));
    let garbage = 0;
    const rss = () => 350 + b.managed + garbage;
    for (let tick = 0; tick < 6; tick++) {
      b.sample(rss(), tick * 100);
      const before = b.managed;
      writeAll(b, out);
      garbage += before - b.managed;
      if (out.take().includes("collect")) {
        garbage = 0;
        b.collected();
      }
    }
    assert.equal(keysWhere(b, "disk").length, spilled);
    assert.deepEqual(keysWhere(b, "disk"), [...Array(spilled).keys()].map((i) => `v${i}`));
    assert.equal(rss(), 750 - 50 * spilled);
  });
}

Deno.test("once spilling on process memory, a worker goes on over ticks until under the target; between the two it does not start", () => {
  const { b, out } = bookOf({ spill: 700, target: 400 });
  for (let i = 0; i < 8; i++) b.put(`v${i}`, value(50));
  b.sample(650, 0);
  assert.deepEqual(out.take(), [], "under the spill threshold: nothing starts");
  b.sample(500, 100);
  assert.deepEqual(out.take(), []);
  b.sample(750, 200);
  assert.equal(out.take().filter((c) => c.startsWith("spill")).length, 7, "350 bytes over");
  b.sample(750, 300);
  assert.deepEqual(out.take(), [], "the writes under way count as spilled");
  writeAll(b, out);
  b.sample(750, 400);
  assert.deepEqual(out.take(), ["collect"], "spilled, not collected: collect, spill no more");
  b.collected();
  b.sample(600, 500);
  assert.deepEqual(out.take(), ["spill 8", "warn unmanaged-high"], "still spilling under 700");
  assert.match(out.warnings[0][1], /^Unmanaged memory use is high/);
  writeAll(b, out);
  b.collected();
  b.sample(400, 600);
  b.sample(650, 700);
  assert.deepEqual(out.take(), [], "back at the target: it stops, and 650 does not start it");
});

Deno.test("with the target off, spilling on process memory stops at the spill threshold (no band)", () => {
  const { b, out } = bookOf({ spill: 700 });
  for (let i = 0; i < 8; i++) b.put(`v${i}`, value(50));
  b.sample(750, 0);
  assert.deepEqual(out.take(), ["spill 1"]);
  writeAll(b, out);
  b.collected();
  b.sample(690, 100);
  assert.deepEqual(out.take(), []);
});

Deno.test("pauses past the pause threshold and resumes back under it by 5% of the limit", () => {
  const { b, out } = bookOf({ pause: 800 });
  b.sample(800, 0);
  assert.equal(b.paused, false);
  b.sample(810, 100);
  assert.deepEqual(out.take(), ["status paused 810", "collect"]);
  assert.equal(b.paused, true);
  b.sample(820, 200);
  assert.deepEqual(out.take(), ["collect"], "over the threshold: a collection each tick");
  b.sample(780, 300);
  assert.deepEqual(out.take(), [], "still paused at 0.78");
  assert.equal(b.paused, true);
  b.sample(750, 400);
  assert.deepEqual(out.take(), ["status running 750"]);
  assert.equal(b.paused, false);
  assert.equal(b.rss, 750);
});

Deno.test("a failed write keeps the value in memory, warns, and never spills it again until put anew", () => {
  const { b, out } = bookOf({ target: 1000 });
  b.put("a", value(600));
  b.put("b", value(600));
  assert.deepEqual(out.take(), ["spill 1"]);
  const msg = "No space left on device (os error 28)";
  assert.deepEqual(b.writeFailed(1, msg), { key: "a", reportOnWrite: false });
  assert.deepEqual(out.take(), ["warn spill-failed"]);
  assert.equal(out.warnings[0][1], `Spill to disk failed; keeping data in memory: ${msg}`);
  assert.equal(b.where("a"), "memory");
  assert.equal(b.diskBytes, 0);
  b.put("c", value(600));
  assert.deepEqual(keysWhere(b, "writing"), ["b"], "a is not chosen again");
  b.put("a", value(600));
  assert.deepEqual(keysWhere(b, "writing"), ["b", "c"]);
  b.put("d", value(600));
  assert.deepEqual(keysWhere(b, "writing"), ["b", "c", "a"], "put anew, a may spill again");
});

Deno.test("a heavy result is written through: reported on its write, dropped when the write fails", () => {
  const { b, out } = bookOf({ target: 600 });
  assert.equal(b.put("small", value(100), { reportOnWrite: true }), "memory");
  assert.equal(b.put("r", value(700), { reportOnWrite: true }), "write-through");
  assert.deepEqual(out.take(), ["spill 1"]);
  assert.equal(b.peek("r")?.nbytes, 700, "in memory while written");
  assert.deepEqual(b.written(1, 704), { key: "r", reportOnWrite: true });
  assert.equal(b.where("r"), "both");
  assert.deepEqual(out.take(), ["spill 2"], "r is the newest: the older small value spills");

  b.put("s", value(800), { reportOnWrite: true });
  assert.deepEqual(out.take(), ["spill 3"]);
  assert.deepEqual(b.writeFailed(3, "No space left on device"), {
    key: "s",
    reportOnWrite: true,
  });
  assert.equal(b.has("s"), false, "the caller errs its task");
  assert.deepEqual(out.warnings, [], "the task error says it; no warning");

  b.put("t", value(800));
  assert.deepEqual(out.take(), ["spill 4"]);
  assert.deepEqual(b.writeFailed(4, "EIO"), { key: "t", reportOnWrite: false });
  assert.equal(b.where("t"), "memory", "a fetched heavy value stays, with a warning");
  assert.equal(out.warnings.length, 1);
});

Deno.test("an answer for a dropped or replaced value is stale: null, and its file was discarded at the drop", () => {
  const { b, out } = bookOf({ target: 1000 });
  b.put("a", value(600));
  b.put("b", value(600));
  out.take();
  b.drop("a");
  assert.deepEqual(out.take(), ["discard 1"], "discarded at once; the store waits for the write");
  assert.equal(b.written(1, 608), null);
  assert.equal(b.writeFailed(1, "EIO"), null);
  assert.deepEqual(out.take(), []);
  assert.equal(b.diskBytes, 0);

  b.put("c", value(600));
  writeAll(b, out);
  b.acquire("b");
  b.put("b", value(10));
  assert.deepEqual(out.take(), ["spill 2", "unspill 2", "discard 2"]);
  assert.equal(b.loaded(2, value(600)), null, "b was put anew meanwhile");
  assert.equal(b.peek("b")?.nbytes, 10);
  assert.equal(b.written(99, 8), null, "an unknown id");
  assert.equal(b.loadFailed(2), null);
  assert.deepEqual(out.take(), []);
});

Deno.test("a failed read loses the value: forgotten and its file discarded", () => {
  const { b, out } = bookOf({ target: 1000 });
  b.put("a", value(600));
  b.put("b", value(600));
  writeAll(b, out);
  b.acquire("a");
  out.take();
  assert.equal(b.loadFailed(1), "a");
  assert.deepEqual(out.take(), ["discard 1"]);
  assert.equal(b.has("a"), false);
  assert.equal(b.spilled, 0);
  assert.equal(b.diskBytes, 0);
});

Deno.test("with no memory limit the book only stores values: no effect at all", () => {
  const out = new RecordingOutbox();
  const b = checked(new MemoryBook(resolveMemoryConfig(0, {}), out));
  for (let i = 0; i < 20; i++) b.put(`k${i}`, value(10_000));
  b.acquire("k0");
  b.release("k0");
  b.sample(1e12, 0);
  b.sample(1e12, 1e9);
  b.drop("k1");
  assert.deepEqual(out.calls, []);
  assert.equal(b.paused, false);
  assert.equal(b.size, 19);
  assert.equal(b.managed, 190_000);
  assert.deepEqual(keysWhere(b, "memory").length, 19);
});
