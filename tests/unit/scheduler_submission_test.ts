/**
 * Graph submission's `plain` columns: option-less tasks read without an object per task.
 */
import assert from "node:assert/strict";
import { FN, t } from "../fixtures/task_specs.ts";
import { SLAB_MAX } from "../../scheduler/arg_slab.ts";
import type { TaskSpec } from "../../comm/protocol.ts";
import { encodeValue, Payload } from "../../comm/serialize.ts";
import { BOOM, erred, FN2, inMemory, type Sim, sim } from "../fixtures/scheduler_harness.ts";

// ------------------------------------------------------------------ plain update-graph columns

/** The keys of `key`'s dependencies, in order. */
function depKeys(x: Sim, key: string): string[] {
  return x.task(key).deps.map((d) => d.key);
}

/** An option-less task spec with arguments `bytes` (opaque to the scheduler). */
function raw(k: string, bytes: Uint8Array, deps: string[] = []): TaskSpec {
  return t(k, deps, { a: new Payload(bytes, []) });
}

Deno.test("plain: tasks are made in order, wanted, linked to deps in the block or before", () => {
  const x = sim([]);
  x.submitPlain([t("a-1"), t("a-2")]);
  x.submitPlain([
    t("b-1", ["a-1"]),
    t("c-1", ["b-1", "a-2"]),
    t("d-1", ["c-1", "a-1", "c-1"]), // listed twice: linked once
    t("e-1"),
  ]);
  const keys = ["a-1", "a-2", "b-1", "c-1", "d-1", "e-1"];
  const orders = keys.map((k) => x.task(k).order);
  for (let i = 1; i < orders.length; i++) assert.ok(orders[i] > orders[i - 1], `${orders}`);
  for (const k of keys) {
    const ts = x.task(k);
    assert.deepEqual([...ts.wants()], ["c"], `${k} is not wanted by c`);
    assert.equal(ts.fn, FN.h);
    assert.equal(ts.prefix, k.split("-")[0]);
  }
  assert.deepEqual(depKeys(x, "a-1"), []);
  assert.deepEqual(depKeys(x, "b-1"), ["a-1"]);
  assert.deepEqual(depKeys(x, "c-1"), ["b-1", "a-2"]);
  assert.deepEqual(depKeys(x, "d-1"), ["c-1", "a-1"]);
  assert.deepEqual(depKeys(x, "e-1"), []);
  assert.deepEqual([...x.task("a-1").dependents ?? []].map((d) => d.key).sort(), ["b-1", "d-1"]);
  assert.deepEqual(x.wantedBy("c"), keys);
  assert.deepEqual(
    x.states(keys),
    ["no-worker", "no-worker", "waiting", "waiting", "waiting", "no-worker"],
  );
  // a worker joins: the whole graph runs in order of dependencies
  x.addWorker("a", 4);
  assert.deepEqual(x.computed("a").sort(), ["a-1", "a-2", "e-1"]);
  x.finish("a-1");
  x.finish("a-2");
  assert.deepEqual(x.computed("a"), ["b-1"]);
  x.finish("b-1");
  x.finish("c-1");
  x.finish("d-1");
  x.finish("e-1");
  assert.deepEqual(inMemory(x.takeClient()).sort(), keys);
});

Deno.test("plain: tasks run f[fi]; a second function in the block is used", () => {
  const x = sim([3]);
  x.submitPlain([t("a-1"), t("s-1", [], { f: FN2.h }), t("a-2")]);
  assert.deepEqual(["a-1", "s-1", "a-2"].map((k) => x.task(k).fn), [FN.h, FN2.h, FN.h]);
  const fns = x.computes("a").map((m) => [m.k, m.f]);
  assert.deepEqual(fns, [["a-1", FN.h], ["s-1", FN2.h], ["a-2", FN.h]]);
});

Deno.test("plain: a key already known is only wanted again, its deps in the block skipped", () => {
  const x = sim([]);
  x.submitPlain([t("a-1"), t("b-1", ["a-1"])]);
  const order = x.task("b-1").order;
  x.addClient("d");
  // b-1 names other deps this time (one unknown): they are not read; e-1's are its own
  x.submitPlain([t("b-1", ["gone-1", "a-1"]), t("e-1", ["b-1"])], "d");
  assert.equal(x.task("b-1").order, order);
  assert.deepEqual(depKeys(x, "b-1"), ["a-1"]);
  assert.deepEqual(depKeys(x, "e-1"), ["b-1"]);
  assert.equal(x.task("a-1").dependents?.size, 1);
  assert.equal(x.state("b-1"), "waiting", "b-1 erred on the deps it was sent again");
  assert.deepEqual([...x.task("b-1").wants()].sort(), ["c", "d"]);
  assert.deepEqual(x.wantedBy("d"), ["b-1", "e-1"]);
  assert.deepEqual(x.wantedBy("c"), ["a-1", "b-1"]);
  assert.deepEqual(erred(x.takeClient("d")), []);
});

Deno.test("plain: a key in memory is not run again; the client is told key-in-memory", () => {
  const x = sim();
  x.submitPlain([t("a-1")]);
  x.finish("a-1");
  x.flush();
  x.addClient("d");
  x.submitPlain([t("a-1"), t("b-1", ["a-1"])], "d");
  assert.deepEqual(inMemory(x.takeClient("d")), ["a-1"]);
  assert.deepEqual(x.computed("a"), ["b-1"]);
  assert.deepEqual(x.takeClient("c"), []);
  assert.deepEqual([...x.task("a-1").wants()].sort(), ["c", "d"]);
  // the same client again: told again
  x.submitPlain([t("a-1")]);
  assert.deepEqual(inMemory(x.takeClient("c")), ["a-1"]);
});

Deno.test("plain: an erred key submitted again returns its error, no recompute", () => {
  const x = sim();
  x.submitPlain([t("a-1")]);
  x.err("a-1");
  x.flush();
  x.submitPlain([t("a-1")]);
  assert.deepEqual(x.computed("a"), []);
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "a-1");
  assert.deepEqual(e.e, BOOM);
});

Deno.test("plain: a function the client never sent: the task errs with ProtocolError", () => {
  const x = sim();
  x.submitPlain([t("a-1"), t("b-1", [], { f: "nope" }), t("c-1", ["b-1"])], "c", [FN]);
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["processing", "erred", "erred"]);
  const errs = erred(x.takeClient());
  assert.deepEqual(errs.map((e) => e.k).sort(), ["b-1", "c-1"]);
  for (const e of errs) {
    assert.equal(e.e.name, "ProtocolError");
    assert.match(e.e.message, /nope/);
    assert.equal(e.blame, "b-1");
  }
  assert.deepEqual(x.computed("a"), ["a-1"]);
});

Deno.test("plain: a dependency unknown to the scheduler: the task errs with CancelledError", () => {
  const x = sim();
  x.submitPlain([t("b-1", ["gone-1"]), t("c-1", ["b-1"]), t("d-1")]);
  assert.deepEqual(x.states(["b-1", "c-1", "d-1"]), ["erred", "erred", "processing"]);
  const errs = erred(x.takeClient());
  assert.deepEqual(errs.map((e) => e.k).sort(), ["b-1", "c-1"]);
  for (const e of errs) {
    assert.equal(e.e.name, "CancelledError");
    assert.match(e.e.message, /gone-1/);
    assert.equal(e.blame, "b-1");
  }
  assert.deepEqual(x.computed("a"), ["d-1"]);
  x.release(["b-1", "c-1", "d-1"]);
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("plain: tasks from a client not connected are not kept", () => {
  const x = sim();
  x.submitPlain([t("a-1"), t("b-1", ["a-1"])], "ghost");
  assert.equal(x.s.tasks.size, 0);
  assert.deepEqual(x.computed("a"), []);
});

Deno.test("plain: each task keeps exactly its bytes, in the slab or (> SLAB_MAX) its own", () => {
  const x = sim([]);
  const fill = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => seed + i);
  const sizes = [5, SLAB_MAX + 1, 0, SLAB_MAX, 3000, 1, SLAB_MAX - 1, 17];
  const specs = sizes.map((n, i) => raw(`x-${i}`, fill(n, i * 7)));
  // the fixture's own arguments (msgpack) too, small and large
  specs.push(t("y-1", ["x-0"]), t("y-2", [], { a: encodeValue(["z".repeat(3 * SLAB_MAX)]) }));
  assert.equal(specs.at(-1)!.a.frames.length, 0);
  assert.ok(specs.at(-1)!.a.header.length > SLAB_MAX);
  const plain = x.submitPlain(specs);
  plain.a.header.fill(0xee); // the block's buffer is not kept: the scheduler has copies
  for (const spec of specs) {
    const args = x.task(spec.k).args;
    assert.ok(args, `${spec.k} has no arguments`);
    assert.equal(args.frames.length, 0);
    assert.deepEqual(args.header, spec.a.header, `${spec.k}: arguments differ`);
  }
  // ...and they reach the worker as given
  x.addWorker("a", 20);
  const sent = new Map(x.computes("a").map((m) => [m.k, m.a]));
  for (const spec of specs.filter((s) => !s.d.length)) {
    assert.deepEqual(sent.get(spec.k)?.header, spec.a.header, `${spec.k}: compute-task args`);
  }
});

Deno.test("plain: many small arguments fill more than one slab chunk, each kept intact", () => {
  const x = sim([]);
  const specs: TaskSpec[] = [];
  for (let i = 0; i < 60; i++) {
    const n = SLAB_MAX - (i % 3); // > 16 KiB in total: the slab starts new chunks mid-block
    specs.push(raw(`m-${i}`, new Uint8Array(n).fill(i + 1), i ? [`m-${i - 1}`] : []));
  }
  x.submitPlain(specs);
  for (const spec of specs) {
    assert.deepEqual(x.task(spec.k).args?.header, spec.a.header, `${spec.k}: arguments differ`);
  }
});
