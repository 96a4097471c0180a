import assert from "node:assert/strict";
import { depthFirstOrder } from "../../client/graph_order.ts";

const order = (g: Record<string, string[]>) => depthFirstOrder(Object.keys(g), (k) => g[k] ?? []);

Deno.test("depthFirstOrder puts every dependency before its dependents", () => {
  const g = { c: ["a", "b"], a: [], b: ["a"], d: ["c", "b"] };
  const o = order(g);
  assert.equal(o.length, 4);
  for (const [k, deps] of Object.entries(g)) {
    for (const d of deps) assert.ok(o.indexOf(d) < o.indexOf(k), `${d} before ${k}`);
  }
});

// dask: test_order.py, the depth-first intent of dask.order (finish one branch first)
Deno.test("depthFirstOrder finishes one output's subtree before starting the next", () => {
  // two independent reductions of two leaves each, keys listed breadth first
  const g = {
    l1: [],
    l2: [],
    l3: [],
    l4: [],
    s1: ["l1", "l2"],
    s2: ["l3", "l4"],
  };
  assert.deepEqual(order(g), ["l1", "l2", "s1", "l3", "l4", "s2"]);
});

Deno.test("depthFirstOrder ignores dependencies outside the graph and handles deep chains", () => {
  assert.deepEqual(order({ x: ["outside"], y: ["x"] }), ["x", "y"]);
  const n = 50_000;
  const chain: Record<string, string[]> = {};
  for (let i = 0; i < n; i++) chain[`k${i}`] = i ? [`k${i - 1}`] : [];
  const o = order(chain);
  assert.equal(o.length, n);
  assert.equal(o[0], "k0");
  assert.equal(o[n - 1], `k${n - 1}`);
});

Deno.test("depthFirstOrder names a key on a cycle", () => {
  assert.throws(() => order({ a: ["b"], b: ["a"] }), /cycle through key "(a|b)"/);
  assert.throws(() => order({ s: ["a"], a: ["b"], b: ["a"] }), /cycle/);
  assert.throws(() => order({ a: ["a"] }), /cycle through key "a"/);
});
