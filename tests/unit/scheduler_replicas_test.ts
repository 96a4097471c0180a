/**
 * Replication and rebalancing (scheduler/replicas.ts) on the state machine.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { type Move, planRebalance, planReplicate } from "../../scheduler/replicas.ts";
import { rng, Sim, sim } from "../fixtures/scheduler_harness.ts";

// ------------------------------------------------------------------ replicas

/** Keys held per worker, by address. */
function held(x: Sim): Record<string, string[]> {
  return Object.fromEntries(
    [...x.s.workers].map(([a, ws]) => [a, [...ws.hasWhat].map((ts) => ts.key).sort()]),
  );
}

// Ports test_client.py::test_replicate (replicate(n) gives n holders per key).
Deno.test("replicate: missing copies go to the emptiest workers; n caps at the workers", () => {
  const x = sim([1, 1, 1, 1]);
  x.submit([t("x-1"), t("big-1")]);
  x.finish("x-1", x.on("x-1"), 10);
  x.finish("big-1", x.on("big-1"), 1000);
  const holderX = x.holders("x-1")[0], holderBig = x.holders("big-1")[0];
  const plan = x.replicate(["x-1"], 3);
  assert.equal([...plan.values()].length, 2);
  for (const who of plan.values()) assert.deepEqual(who, { "x-1": [holderX] });
  assert.ok(!plan.has(holderBig), "the worker holding the most bytes gets no copy");
  assert.equal(x.holders("x-1").length, 3);
  x.replicate(["x-1", "big-1"]);
  assert.equal(x.holders("x-1").length, 4);
  assert.equal(x.holders("big-1").length, 4);
  x.replicate(["x-1"], 10);
  assert.equal(x.holders("x-1").length, 4, "no more copies than workers");
  assert.equal(x.s.workers.get("a")!.nbytes, 1010);
});

// Ports test_client.py::test_replicate (lowering n drops surplus copies).
Deno.test("replicate with a lower n frees the surplus copies, never the last", () => {
  const x = sim([1, 1, 1]);
  x.submit([t("x-1")]);
  x.finish("x-1");
  x.replicate(["x-1"]);
  assert.deepEqual(x.holders("x-1"), ["a", "b", "c"]);
  x.flush();
  const plan = x.replicate(["x-1"], 1);
  assert.equal(plan.size, 0, "nothing to copy");
  assert.equal(x.holders("x-1").length, 1);
  const freed = ["a", "b", "c"].flatMap((a) => x.freed(a));
  assert.deepEqual(freed, ["x-1", "x-1"]);
  assert.equal(x.state("x-1"), "memory");
  // keys not in memory are left alone
  x.submit([t("y-1")]);
  assert.equal(x.replicate(["y-1", "unknown"], 2).size, 0);
});

Deno.test("a replica arriving for a key released meanwhile is freed on that worker", () => {
  const x = sim([1, 1]);
  x.submit([t("x-1")]);
  const a = x.on("x-1");
  x.finish("x-1", a);
  const b = a === "a" ? "b" : "a";
  const plan = planReplicate(x.s, ["x-1"]);
  assert.deepEqual(plan.get(b), { "x-1": [a] });
  x.release(["x-1"]);
  x.flush();
  x.replicasArrived(b, ["x-1"]);
  assert.deepEqual(x.freed(b), ["x-1"]);
  assert.equal(x.s.tasks.has("x-1"), false);
});

Deno.test("a replicated key survives its first holder's death and is freed everywhere", () => {
  const x = sim([1, 1]);
  x.submit([t("x-1")]);
  const a = x.on("x-1");
  x.finish("x-1", a);
  x.replicate(["x-1"]);
  assert.deepEqual(x.holders("x-1"), ["a", "b"]);
  x.removeWorker(a);
  assert.equal(x.state("x-1"), "memory", "still held elsewhere: not recomputed");
  assert.deepEqual(x.holders("x-1"), [a === "a" ? "b" : "a"]);
  x.flush();
  x.release(["x-1"]);
  assert.deepEqual(x.freed(a === "a" ? "b" : "a"), ["x-1"]);
});

Deno.test("removeReplicas never drops the last copy", () => {
  const x = sim([1, 1]);
  x.submit([t("x-1")]);
  const a = x.on("x-1");
  x.finish("x-1", a);
  x.flush();
  x.removeReplicas(a, ["x-1", "unknown"]);
  assert.deepEqual(x.freed(a), []);
  assert.deepEqual(x.holders("x-1"), [a]);
});

// Ports test_client.py::test_rebalance (100 keys on a: 50 and 50 after rebalance()).
Deno.test("rebalance: keys move from the fullest worker until both hold the mean", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  const keys = Array.from({ length: 100 }, (_, i) => `x-${i}`);
  x.submit(keys.map((k) => t(k, [], { w: ["a"] })));
  for (const k of keys) x.finish(k, "a", 100);
  const moves = x.rebalance();
  assert.equal(moves.length, 50);
  for (const mv of moves) assert.deepEqual([mv.from, mv.to], ["a", "b"]);
  const h = held(x);
  assert.equal(h.a.length, 50);
  assert.equal(h.b.length, 50);
  for (const k of keys) assert.equal(x.holders(k).length, 1, `${k}: exactly one copy`);
  assert.deepEqual(x.rebalance(), [], "balanced: nothing moves again");
});

// Ports test_client.py::test_rebalance_unprepared / test_rebalance_workers_and_keys.
Deno.test("rebalance: only the given keys move; uneven sizes; one worker moves nothing", () => {
  const x = sim([1, 1, 1], { workerSaturation: Infinity });
  x.submit([t("big-1", [], { w: ["a"] }), t("s-1", [], { w: ["a"] }), t("s-2", [], { w: ["a"] })]);
  x.finish("big-1", "a", 900);
  x.finish("s-1", "a", 100);
  x.finish("s-2", "a", 100);
  // mean 366: big-1 (900) would put its recipient far above it, so only the small ones move
  const moves = x.rebalance();
  assert.deepEqual(moves.map((m) => m.key).sort(), ["s-1", "s-2"]);
  assert.deepEqual(new Set(moves.map((m) => m.to)), new Set(["b", "c"]), "spread over both");
  const y = sim([1, 1], { workerSaturation: Infinity });
  y.submit([t("p-1", [], { w: ["a"] }), t("q-1", [], { w: ["a"] })]);
  y.finish("p-1", "a", 100);
  y.finish("q-1", "a", 100);
  assert.deepEqual(y.rebalance(["q-1"]).map((m) => m.key), ["q-1"]);
  assert.deepEqual(y.rebalance(["p-1"]), [], "balanced now");
  const z = sim([1]);
  z.submit([t("r-1")]);
  z.finish("r-1");
  assert.deepEqual(z.rebalance(), []);
});

Deno.test("rebalance never moves a key to a worker that holds it", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("x-1", [], { w: ["a"] }), t("x-2", [], { w: ["a"] }), t("x-3", [], { w: ["a"] })]);
  for (const k of ["x-1", "x-2", "x-3"]) x.finish(k, "a", 100);
  x.replicate(["x-1", "x-2", "x-3"]); // both hold everything: balanced
  assert.deepEqual(x.rebalance(), []);
});

/**
 * Replicate and rebalance interleaved with submissions, results, releases, missing data and
 * worker deaths; planned copies arrive late (after other stimuli), some never.
 */
function fuzzReplicas(seed: number, steps: number): void {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const x = new Sim({ workerSaturation: [1.1, Infinity][seed % 2] });
  x.addClient("c");
  let nk = 0, nw = 0;
  for (; nw < 3; nw++) x.addWorker(`w${nw}`, 1 + (nw % 2));
  const inFlight: [string, string[]][] = []; // copies planned, not yet arrived
  const moves: Move[] = []; // rebalance moves whose copy has not arrived
  const memory = () => [...x.s.tasks.values()].filter((ts) => ts.state === "memory");
  const processing = () => [...x.s.tasks.values()].filter((ts) => ts.state === "processing");
  for (let step = 0; step < steps; step++) {
    const op = r();
    if (op < 0.25) {
      const known = [...x.s.tasks.keys()];
      const deps = known.length && r() < 0.5 ? [pick(known)] : [];
      x.submit([t(`k${nk++}-x`, deps)], r() < 0.8 ? [`k${nk - 1}-x`] : []);
    } else if (op < 0.5) {
      const p = processing();
      if (p.length) {
        const ts = pick(p);
        x.finish(ts.key, ts.processingOn!.address, 1 + Math.floor(r() * 1000));
      }
    } else if (op < 0.58) {
      const wants = x.wantedBy("c");
      if (wants.length) x.release([pick(wants)]);
    } else if (op < 0.68) {
      const keys = memory().filter(() => r() < 0.5).map((ts) => ts.key);
      const n = r() < 0.3 ? undefined : 1 + Math.floor(r() * 3);
      const plan = x.planReplicate(keys, n);
      for (const [address, who] of plan) inFlight.push([address, Object.keys(who)]);
    } else if (op < 0.74) {
      moves.push(...planRebalance(x.s, r() < 0.5 ? undefined : memory().map((ts) => ts.key)));
    } else if (op < 0.86 && inFlight.length) {
      const [address, keys] = inFlight.splice(Math.floor(r() * inFlight.length), 1)[0];
      const live = x.s.workers.has(address);
      if (live && r() < 0.9) x.replicasArrived(address, keys.filter(() => r() < 0.9));
    } else if (op < 0.92 && moves.length) {
      const mv = moves.splice(Math.floor(r() * moves.length), 1)[0];
      if (x.s.workers.has(mv.to)) {
        x.replicasArrived(mv.to, [mv.key]);
        if (x.s.workers.has(mv.from)) x.removeReplicas(mv.from, [mv.key]);
      }
    } else if (op < 0.95) {
      const p = processing().filter((ts) => ts.deps.some((d) => d.whoHas?.size));
      if (p.length) {
        const ts = pick(p);
        const dep = pick(ts.deps.filter((d) => d.whoHas?.size));
        x.missing(ts.key, dep.key, pick([...dep.whoHas!]).address);
      }
    } else if (op < 0.98 && x.s.workers.size > 1) {
      x.removeWorker(pick([...x.s.workers.keys()]));
    } else if (x.s.workers.size < 4) {
      x.addWorker(`w${nw++}`, 2);
    }
  }
  // no leaks: once the client is gone, nothing is left anywhere
  x.removeClient("c");
  assert.equal(x.s.tasks.size, 0, `seed ${seed}: tasks left`);
  for (const [address, ws] of x.s.workers) {
    assert.equal(ws.nbytes, 0, `seed ${seed}: ${address} nbytes`);
    assert.equal(x.model.get(address)!.size, 0, `seed ${seed}: ${address} still holds keys`);
  }
}

Deno.test("randomized replicate / rebalance keep every invariant and leak nothing", () => {
  for (let seed = 1; seed <= 60; seed++) fuzzReplicas(seed, 400);
});
