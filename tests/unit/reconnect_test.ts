/** What a reconnected client sends first (client/reconnect.ts `pendingGraph`). */
import assert from "node:assert/strict";
import { pendingGraph } from "../../client/reconnect.ts";
import { KeyState } from "../../client/future.ts";
import { encodeValue } from "../../comm/serialize.ts";
import type { FunctionDef, TaskSpec } from "../../comm/protocol.ts";

const F: FunctionDef = { h: "h-inc", n: "inc", s: "(x) => x + 1" };
const G: FunctionDef = { h: "h-add", n: "add", s: "(a, b) => a + b" };
const spec = (k: string, f: FunctionDef, d: string[] = []): TaskSpec => ({
  k,
  f: f.h,
  a: encodeValue([k]),
  d,
});

function key(k: string, s: TaskSpec | null, status?: "finished" | "cancelled"): KeyState {
  const ks = new KeyState(k);
  ks.spec = s;
  if (status) ks.settle(status);
  return ks;
}

Deno.test("pendingGraph: every pending key wanted again, with its task and function once", () => {
  const defs = new Map([[F.h, F], [G.h, G]]);
  const keys = [
    key("a", spec("a", F)),
    key("b", spec("b", F)),
    key("c", spec("c", G, ["a", "b"])),
    key("done", spec("done", G), "finished"), // settled: its spec is gone, nothing to resend
    key("gone", null, "cancelled"),
    key("adopted", null), // a key this client only wants (getDataset): wanted, no task
  ];
  const g = pendingGraph(keys, defs)!;
  assert.equal(g.op, "update-graph");
  assert.deepEqual(g.wanted, ["a", "b", "c", "adopted"]);
  assert.deepEqual(g.tasks.map((t) => t.k), ["a", "b", "c"]);
  assert.deepEqual(g.tasks[2].d, ["a", "b"]);
  assert.deepEqual(g.functions!.map((f) => f.h).sort(), [G.h, F.h].sort());
});

Deno.test("pendingGraph: nothing pending, nothing to send", () => {
  assert.equal(pendingGraph([key("x", spec("x", F), "finished")], new Map([[F.h, F]])), null);
  assert.equal(pendingGraph([], new Map()), null);
});

Deno.test("a settled key drops its spec (nothing kept once done)", () => {
  const ks = key("x", spec("x", F));
  assert.ok(ks.spec);
  ks.settle("finished");
  assert.equal(ks.spec, null);
});

Deno.test("a finished key keeps its spec while a pending task depends on it, then drops it", () => {
  const leaf = new KeyState("leaf");
  leaf.keepSpec(spec("leaf", F), []);
  const mid = new KeyState("mid");
  mid.keepSpec(spec("mid", G, ["leaf"]), [leaf]);
  const top = new KeyState("top");
  top.keepSpec(spec("top", G, ["mid"]), [mid]);
  leaf.settle("finished");
  mid.settle("finished");
  assert.ok(leaf.spec && mid.spec, "kept for top, which may need them computed again");
  // a replaced scheduler gets the whole lineage of what is pending, dependencies first
  const g = pendingGraph([leaf, mid, top], new Map([[F.h, F], [G.h, G]]))!;
  assert.deepEqual(g.tasks.map((t) => t.k), ["leaf", "mid", "top"]);
  assert.deepEqual(g.wanted, ["top"]);
  top.settle("finished");
  assert.equal(top.spec, null);
  assert.equal(mid.spec, null);
  assert.equal(leaf.spec, null);
});
