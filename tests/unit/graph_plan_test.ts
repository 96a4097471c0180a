import assert from "node:assert/strict";
import { type Graph, planGraph, ref, task } from "../../client/graph.ts";

const add = (...xs: number[]) => xs.reduce((a, b) => a + b, 0);
const order = (g: Graph) => planGraph(g, () => false, () => undefined).map((e) => e.key);

Deno.test("planGraph puts every dependency before its dependents", () => {
  const g = {
    c: task(add, ref("a"), ref("b")),
    a: 1,
    b: task(add, ref("a")),
    d: task(add, ref("c"), ref("b")),
  };
  const o = order(g);
  assert.equal(o.length, 4);
  const deps: Record<string, string[]> = { c: ["a", "b"], b: ["a"], d: ["c", "b"], a: [] };
  for (const [k, ds] of Object.entries(deps)) {
    for (const d of ds) assert.ok(o.indexOf(d) < o.indexOf(k), `${d} before ${k}`);
  }
});

// Dask: test_priorities.py::test_last_in_first_out — depth first: one branch finishes first
Deno.test("planGraph finishes one output's subtree before starting the next", () => {
  // two reductions of two leaves each, keys listed breadth first
  const g = {
    l1: 1,
    l2: 2,
    l3: 3,
    l4: 4,
    s1: task(add, ref("l1"), ref("l2")),
    s2: task(add, ref("l3"), ref("l4")),
  };
  assert.deepEqual(order(g), ["l1", "l2", "s1", "l3", "l4", "s2"]);
});

Deno.test("planGraph orders deep chains without overflowing the stack", () => {
  const n = 20_000;
  const g: Graph = { k0: 0 };
  for (let i = 1; i < n; i++) g[`k${i}`] = task(add, ref(`k${i - 1}`), 1);
  const o = order(g);
  assert.equal(o.length, n);
  assert.equal(o[0], "k0");
  assert.equal(o[n - 1], `k${n - 1}`);
});

Deno.test("planGraph names the keys of a cycle, also one no sink leads to", () => {
  assert.throws(() => order({ a: task(add, ref("b")), b: task(add, ref("a")) }), /cycle/);
  assert.throws(
    () => order({ s: task(add, ref("a")), a: task(add, ref("b")), b: task(add, ref("a")) }),
    /cycle: .*a -> b -> a|cycle: .*b -> a -> b/,
  );
  assert.throws(() => order({ a: task(add, ref("a")) }), /a depends on itself/);
});
