import assert from "node:assert/strict";
import { PlainBlock } from "../../client/plain_block.ts";
import { Payload } from "../../comm/serialize.ts";
import { validateMessage } from "../../comm/validate.ts";
import type { PlainTasks, UpdateGraph } from "../../comm/protocol.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

/** The update-graph message carrying `plain` (it must pass the edge's shape checks). */
function message(plain: PlainTasks): UpdateGraph {
  return { op: "update-graph", tasks: [], plain, wanted: [], functions: [] };
}

Deno.test("PlainBlock: tasks of one function without deps carry no fi, dc or di", () => {
  const b = new PlainBlock();
  assert.equal(b.size, 0);
  b.add("a-1", "fh", bytes(1), []);
  b.add("a-2", "fh", bytes(2, 3), []);
  b.add("a-3", "fh", bytes(), []);
  assert.equal(b.size, 3);
  const c = b.columns();
  assert.deepEqual(c.k, ["a-1", "a-2", "a-3"]);
  assert.deepEqual(c.f, ["fh"]);
  assert.deepEqual(c.d, []);
  assert.deepEqual(c.ae, [1, 3, 3]);
  assert.ok(!("fi" in c), "fi present though every task runs f[0]");
  assert.ok(!("dc" in c), "dc present though no task has dependencies");
  assert.ok(!("di" in c), "di present though no task has dependencies");
  assert.deepEqual(c.a.header, bytes(1, 2, 3));
  const m = message(c);
  assert.equal(validateMessage(m), m);
});

Deno.test("PlainBlock: a second function appearing later back-fills fi with 0s", () => {
  const b = new PlainBlock();
  b.add("a-1", "f0", bytes(1), []);
  b.add("a-2", "f0", bytes(2), []);
  b.add("b-1", "f1", bytes(3), []);
  b.add("a-3", "f0", bytes(4), []);
  b.add("c-1", "f2", bytes(5), []);
  b.add("b-2", "f1", bytes(6), []);
  const c = b.columns();
  assert.deepEqual(c.f, ["f0", "f1", "f2"]);
  assert.deepEqual(c.fi, [0, 0, 1, 0, 2, 1]);
  assert.equal(c.dc, undefined);
  assert.equal(c.di, undefined);
  const m = message(c);
  assert.equal(validateMessage(m), m);
});

Deno.test("PlainBlock: deps from the 3rd task back-fill dc with 0s; di indexes deduplicated d", () => {
  const b = new PlainBlock();
  b.add("x-1", "fh", bytes(1), []);
  b.add("x-2", "fh", bytes(2), []);
  b.add("y-1", "fh", bytes(3), ["x-1", "x-2"]);
  b.add("y-2", "fh", bytes(4), new Set(["x-2"])); // any iterable
  b.add("z-1", "fh", bytes(5), []);
  b.add("z-2", "fh", bytes(6), ["y-1", "x-1", "y-2"]);
  const c = b.columns();
  assert.equal(c.fi, undefined);
  assert.deepEqual(c.d, ["x-1", "x-2", "y-1", "y-2"]);
  assert.deepEqual(c.dc, [0, 0, 2, 1, 0, 3]);
  assert.deepEqual(c.di, [0, 1, 1, 2, 0, 3]);
  // each task's dependencies read back through dc and di
  const deps: string[][] = [];
  let at = 0;
  for (const n of c.dc!) deps.push(c.di!.slice(at, at += n).map((i) => c.d[i]));
  assert.deepEqual(deps, [[], [], ["x-1", "x-2"], ["x-2"], [], ["y-1", "x-1", "y-2"]]);
  const m = message(c);
  assert.equal(validateMessage(m), m);
});

Deno.test("PlainBlock: arguments are concatenated in a frameless Payload; ae are end offsets", () => {
  const b = new PlainBlock();
  const args = [bytes(10, 11, 12), bytes(), bytes(20), new Uint8Array(300).fill(7), bytes(30, 31)];
  args.forEach((a, i) => b.add(`t-${i}`, i % 2 ? "g" : "f", a, i ? [`t-${i - 1}`] : []));
  const c = b.columns();
  assert.ok(c.a instanceof Payload);
  assert.equal(c.a.frames.length, 0);
  assert.deepEqual(c.ae, [3, 3, 4, 304, 306]);
  assert.equal(c.a.header.length, 306);
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    assert.deepEqual(c.a.header.subarray(start, c.ae[i]), args[i], `args of t-${i}`);
    start = c.ae[i];
  }
  assert.deepEqual(c.fi, [0, 1, 0, 1, 0]);
  assert.deepEqual(c.dc, [0, 1, 1, 1, 1]);
  const m = message(c);
  assert.equal(validateMessage(m), m);
});

Deno.test("PlainBlock: an empty block gives empty columns that are still valid", () => {
  const c = new PlainBlock().columns();
  assert.deepEqual([c.k, c.f, c.ae, c.d], [[], [], [], []]);
  assert.equal(c.a.header.length, 0);
  assert.equal(c.a.frames.length, 0);
  const m = message(c);
  assert.equal(validateMessage(m), m);
});
