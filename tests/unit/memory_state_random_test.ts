/**
 * A worker's MemoryBook under random operations and answers keeps its invariants; and the size of
 * a spill file follows its layout.
 */
import assert from "node:assert/strict";
import { Payload } from "../../comm/payload.ts";
import { spillSize } from "../../worker/spill_layout.ts";
import { bookOf, value } from "../fixtures/memory_book_harness.ts";

Deno.test("a spill file holds the header and each frame, each padded to 8 bytes", () => {
  assert.equal(spillSize(new Payload(new Uint8Array(5), [])), 8);
  assert.equal(
    spillSize(new Payload(new Uint8Array(16), [new Uint8Array(3), new Uint8Array(8)])),
    32,
  );
  assert.equal(spillSize(new Payload(new Uint8Array(0), [new Uint8Array(9)])), 16);
});

Deno.test("randomized operations and answers keep the book's invariants", () => {
  let seed = 42;
  const rand = (n: number) => { // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
  const { b, out } = bookOf({ target: 600, spill: 700, pause: 800, maxSpill: 3000 });
  const pins = new Map<string, number>();
  const answered = { loaded: 0, reported: 0 };
  for (let step = 0; step < 3000; step++) {
    const k = `k${rand(12)}`;
    switch (rand(9)) {
      case 0:
      case 1:
        b.put(k, value(rand(4) === 0 ? 700 : 20 + rand(200)), { reportOnWrite: rand(2) === 0 });
        pins.delete(k);
        break;
      case 2:
        if (b.has(k)) {
          b.acquire(k);
          pins.set(k, (pins.get(k) ?? 0) + 1);
        }
        break;
      case 3:
        if (pins.get(k)) {
          b.release(k);
          pins.set(k, pins.get(k)! - 1);
        }
        break;
      case 4:
        b.drop(k);
        pins.delete(k);
        break;
      case 5:
        b.sample(rand(1000), step);
        break;
      case 6: {
        const [id] = out.writes.keys();
        if (id === undefined) break;
        const p = out.writes.get(id)!;
        out.writes.delete(id);
        const answer = rand(5) === 0 ? b.writeFailed(id, "EIO") : b.written(id, spillSize(p));
        if (answer?.reportOnWrite) answered.reported++;
        break;
      }
      case 7: {
        const [id] = out.reads;
        if (id === undefined) break;
        out.reads.delete(id);
        if (rand(6) > 0) {
          if (b.loaded(id, out.files.get(id)!) !== null) answered.loaded++;
        } else {
          const key = b.loadFailed(id);
          if (key !== null) pins.delete(key);
        }
        break;
      }
      case 8:
        b.collected();
        break;
    }
  }
  assert.ok(b.diskBytes <= 3000, "never past maxSpill");
  const kinds = new Set(
    out.calls.map((c) => c.split(" ").slice(0, 2).join(" ").replace(/ \d+$/, "")),
  );
  const all = [
    "spill",
    "unspill",
    "discard",
    "collect",
    "status paused",
    "status running",
    "warn spill-failed",
    "warn max-spill",
    "warn unmanaged-high",
  ];
  assert.deepEqual(all.filter((k) => !kinds.has(k)), [], "every effect was exercised");
  assert.ok(answered.loaded > 0 && answered.reported > 0, JSON.stringify(answered));
});
