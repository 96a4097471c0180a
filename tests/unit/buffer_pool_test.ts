// The buffer pool lends warm shared regions and takes one back only once nothing uses it: its
// lend collected, and every thread it went to released. The tests need the collector
// (--v8-flags=--expose-gc); without it, one test runs this file again in a process that has it.
import assert from "node:assert/strict";
import {
  BufferPool,
  installBufferPool,
  POOL_MIN,
  poolCapFor,
  sharedRegion,
} from "../../comm/buffer_pool.ts";

const MiB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

/** Collects until `done()` (finalizers run between turns), for at most 10 s. */
async function collectUntil(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    gc!();
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** Takes a region of `size` filled with `fill`, and drops it (in a frame of its own). */
function takeFilledAndDrop(pool: BufferPool, size: number, fill: number): number {
  const lend = pool.take(size);
  new Uint8Array(lend, 0, size).fill(fill);
  return pool.idOf(lend)!;
}

Deno.test({
  name: "buffer pool: the tests run again in a process with the collector",
  ignore: gc !== undefined,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "-A",
        "--v8-flags=--expose-gc",
        "--sanitize-ops",
        "--sanitize-resources",
        new URL(import.meta.url).pathname,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /passed/);
  },
});

const withGc = { ignore: gc === undefined };

Deno.test("buffer pool: the cap is min(256 MiB, 10% of the limit), 256 MiB with no limit", () => {
  assert.equal(poolCapFor(0), 256 * MiB);
  assert.equal(poolCapFor(1000 * MiB), 100 * MiB);
  assert.equal(poolCapFor(64 * 1024 * MiB), 256 * MiB);
});

Deno.test("buffer pool: regions out at once are distinct memory", () => {
  const pool = new BufferPool();
  const a = new Uint8Array(pool.take(2 * MiB)), b = new Uint8Array(pool.take(2 * MiB));
  a.fill(1);
  b.fill(2);
  assert.equal(a[0], 1);
  assert.notEqual(pool.idOf(a.buffer), pool.idOf(b.buffer));
  assert.deepEqual(pool.stats, { fresh: 2, reused: 0 });
  assert.equal(pool.inUse, 2);
});

Deno.test({
  name: "buffer pool: a region comes back once its lend is collected, and is lent again warm",
  ...withGc,
  async fn() {
    const pool = new BufferPool();
    const id = takeFilledAndDrop(pool, 2 * MiB, 7);
    await collectUntil(() => pool.freeBytes === 2 * MiB, "the region to come back");
    assert.equal(pool.inUse, 0);
    const again = pool.take(2 * MiB);
    assert.equal(pool.idOf(again), id);
    assert.equal(new Uint8Array(again)[123], 7, "the same memory");
    assert.deepEqual(pool.stats, { fresh: 1, reused: 1 });
    assert.equal(pool.freeBytes, 0);
  },
});

Deno.test({
  name: "buffer pool: best fit within 12.5%, else a fresh region",
  ...withGc,
  async fn() {
    const pool = new BufferPool();
    const big = takeFilledAndDrop(pool, 4 * MiB, 1);
    const exact = takeFilledAndDrop(pool, 2 * MiB, 2);
    const near = takeFilledAndDrop(pool, 2 * MiB + 200 * 1024, 3);
    await collectUntil(() => pool.freeBytes === 8 * MiB + 200 * 1024, "three regions back");
    const a = pool.take(2 * MiB);
    assert.equal(pool.idOf(a), exact, "the smallest that fits");
    const b = pool.take(2 * MiB);
    assert.equal(pool.idOf(b), near, "2.2 MiB is within 12.5% of 2 MiB");
    const c = pool.take(3 * MiB);
    assert.notEqual(pool.idOf(c), big, "4 MiB is more than 12.5% over 3 MiB");
    assert.equal(c.byteLength, 3 * MiB);
    assert.deepEqual(pool.stats, { fresh: 4, reused: 2 });
    assert.equal(pool.freeBytes, 4 * MiB);
  },
});

Deno.test({
  name: "buffer pool: free regions past the cap are dropped",
  ...withGc,
  async fn() {
    const pool = new BufferPool(3 * MiB);
    takeFilledAndDrop(pool, 2 * MiB, 1);
    takeFilledAndDrop(pool, 2 * MiB, 2);
    await collectUntil(() => pool.inUse === 0, "both regions back");
    assert.equal(pool.freeBytes, 2 * MiB);
  },
});

Deno.test({
  name: "buffer pool: a region a thread holds (or an adopted clone) is not reused until released",
  ...withGc,
  async fn() {
    const pool = new BufferPool();
    const threadId = takeFilledAndDrop(pool, 2 * MiB, 1);
    pool.threadHeld([threadId, threadId]); // posted to a thread twice
    let adoptedId = 0;
    let clone: SharedArrayBuffer | undefined;
    (() => {
      const lend = pool.take(3 * MiB);
      adoptedId = pool.idOf(lend)!;
      clone = structuredClone(lend);
      assert.ok(pool.adopt(clone, adoptedId));
    })();
    const witness = takeFilledAndDrop(pool, 5 * MiB, 3);
    // once the witness is back, the other two lends have been collected too
    await collectUntil(() => pool.freeBytes === 5 * MiB, "the witness region back");
    for (let i = 0; i < 3; i++) {
      gc!();
      await new Promise((r) => setTimeout(r, 0));
    }
    assert.equal(pool.freeBytes, 5 * MiB, "held regions stay out");
    assert.equal(pool.idOf(pool.take(5 * MiB)), witness);
    await collectUntil(() => pool.freeBytes === 5 * MiB, "the witness region back again");
    pool.threadReleased([threadId]);
    assert.equal(pool.freeBytes, 5 * MiB, "one thread object still holds it");
    pool.threadReleased([threadId]);
    assert.equal(pool.freeBytes, 7 * MiB);
    assert.equal(pool.idOf(clone!), adoptedId);
    assert.equal(pool.inUse, 1, "the adopted clone holds its region");
    clone = undefined;
    await collectUntil(() => pool.freeBytes === 10 * MiB, "the adopted region back");
  },
});

Deno.test({
  name: "buffer pool: trim drops the largest free regions first; after clear none is kept",
  ...withGc,
  async fn() {
    const pool = new BufferPool();
    takeFilledAndDrop(pool, 1 * MiB, 1);
    takeFilledAndDrop(pool, 2 * MiB, 1);
    takeFilledAndDrop(pool, 4 * MiB, 1);
    await collectUntil(() => pool.freeBytes === 7 * MiB, "three regions back");
    assert.equal(pool.trim(1), 4 * MiB);
    assert.equal(pool.freeBytes, 3 * MiB);
    assert.equal(pool.trim(), 3 * MiB);
    assert.equal(pool.freeBytes, 0);
    const held = takeFilledAndDrop(pool, 2 * MiB, 1);
    pool.threadHeld([held]);
    pool.threadReleased([held]);
    pool.clear();
    await collectUntil(() => pool.inUse === 0, "the lend collected");
    assert.equal(pool.freeBytes, 0, "a cleared pool keeps nothing");
  },
});

Deno.test("buffer pool: sharedRegion takes large regions from the installed pool", () => {
  const pool = new BufferPool();
  installBufferPool(pool);
  try {
    const big = sharedRegion(POOL_MIN + 8);
    assert.equal(big.byteLength, POOL_MIN + 8);
    assert.ok(big.buffer instanceof SharedArrayBuffer);
    assert.notEqual(pool.idOf(big.buffer), undefined);
    const small = sharedRegion(POOL_MIN - 8);
    assert.ok(small.buffer instanceof SharedArrayBuffer);
    assert.equal(pool.idOf(small.buffer), undefined);
  } finally {
    installBufferPool(null);
  }
  assert.equal(installBufferPool.length, 1);
  assert.equal(pool.idOf(sharedRegion(2 * MiB).buffer), undefined, "uninstalled: fresh");
});
