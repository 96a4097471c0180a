/**
 * Work stealing: balancing passes, the steal transaction and its races.
 */
import assert from "node:assert/strict";
import { FN, t } from "../fixtures/task_specs.ts";
import type { SchedulerConfig } from "../../scheduler/state.ts";
import { rng, sim } from "../fixtures/scheduler_harness.ts";

// ------------------------------------------------------------------ work stealing

/**
 * x-0 in memory on "a" (`nbytes`), then `n` tasks y-i that need it: all go to "a" (their input
 * is there), while the other workers stay idle.
 */
function loaded(threads = [1, 1], n = 10, config: Partial<SchedulerConfig> = {}, nbytes = 8) {
  const x = sim(threads, config);
  x.submit([t("x-0")]);
  x.finish("x-0", "a", nbytes);
  x.submit(Array.from({ length: n }, (_, i) => t(`y-${i}`, ["x-0"])));
  assert.equal(x.processingCount("a"), n);
  x.flush();
  return x;
}

// Dask: test_steal.py::test_work_stealing / test_steal_cheap_data_slow_computation
Deno.test("stealing: an idle worker takes tasks not started from a loaded one, until balanced", () => {
  const x = loaded();
  x.balance();
  // the most recently assigned first; 10 × 0.5 s on a: four move (a fifth would overshoot,
  // counting the round trip: b would then expect more work than a)
  assert.deepEqual(x.stealsAsked("a"), ["y-9", "y-8", "y-7", "y-6"]);
  assert.deepEqual(x.computed("b"), [], "nothing moves before the victim answers");
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), [], "steals in flight count: no second request");
  x.stealAnswer("y-9", "a", "ready");
  x.stealAnswer("y-8", "a", "waiting");
  x.stealAnswer("y-7", "a", "ready");
  x.stealAnswer("y-6", "a", "ready");
  assert.deepEqual(x.computed("b"), ["y-9", "y-8", "y-7", "y-6"]);
  assert.equal(x.on("y-9"), "b");
  assert.equal(x.processingCount("a"), 6);
  assert.equal(x.processingCount("b"), 4);
  assert.equal(x.s.tasksStolen, 4);
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), [], "balanced: nothing more moves");
  for (let i = 0; i < 10; i++) x.finish(`y-${i}`);
  assert.deepEqual(x.states(["y-0", "y-9"]), ["memory", "memory"]);
});

Deno.test("stealing: the thief is told where the inputs are", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const [k] = x.stealsAsked("a");
  x.stealAnswer(k, "a", "ready");
  const [m] = x.computes("b");
  assert.equal(m.k, k);
  assert.deepEqual(m.d, { "x-0": ["a"] });
  assert.deepEqual(m.fn, FN, "the thief gets the function's source the first time");
});

// Dask: test_steal.py::test_dont_steal_executing_tasks
Deno.test("stealing: a started task stays where it runs; it finishes there once", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const asked = x.stealsAsked("a");
  assert.ok(asked.length > 0);
  for (const k of asked) x.stealAnswer(k, "a", "executing");
  assert.deepEqual(x.computed("b"), []);
  for (const k of asked) assert.equal(x.on(k), "a");
  for (const k of asked) x.finish(k, "a");
  assert.deepEqual(x.freed("a"), [], "nothing to undo");
  assert.equal(x.s.tasksStolen, 0);
});

Deno.test("stealing: a steal racing with completion: the victim's result is kept, no rerun", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const asked = x.stealsAsked("a");
  const k = asked[0];
  x.finish(k, "a"); // the worker finished it before the request reached it
  x.stealAnswer(k, "a", "memory");
  assert.equal(x.state(k), "memory");
  assert.deepEqual(x.holders(k), ["a"]);
  assert.deepEqual(x.computed("b"), [], "nothing duplicated");
  assert.equal(x.s.stealsInFlight.size, asked.length - 1);
});

Deno.test("stealing: a steal racing with a release: the late answer moves nothing", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const [k] = x.stealsAsked("a");
  x.release([k]);
  x.stealAnswer(k, "a", "ready"); // it dropped the task on the request, before the free-keys
  assert.equal(x.state(k), "forgotten");
  assert.deepEqual(x.computed("b"), []);
});

Deno.test("stealing: the thief left before the answer: the task is placed again", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const [k] = x.stealsAsked("a");
  x.removeWorker("b");
  x.stealAnswer(k, "a", "ready");
  assert.equal(x.on(k), "a");
  assert.deepEqual(x.computed("a"), [k], "sent to a again");
});

Deno.test("stealing: an answer from a worker that was not asked is ignored", () => {
  const x = loaded([1, 1], 4);
  x.balance();
  const asked = x.stealsAsked("a");
  const k = asked[0];
  x.s.stealResponse("b", k, "ready");
  x.s.stealResponse("a", "nope-1", "ready");
  assert.equal(x.on(k), "a");
  assert.equal(x.s.stealsInFlight.size, asked.length);
});

// Dask: test_steal.py::test_dont_steal_worker_restrictions / test_steal_worker_restrictions
Deno.test("stealing: a strict restriction is never broken; stealing stays within it", () => {
  const x = sim([1, 1, 1]);
  x.submit([t("x-0", [], { w: ["a"] })]);
  x.finish("x-0", "a");
  x.submit(Array.from({ length: 10 }, (_, i) => t(`y-${i}`, ["x-0"], { w: ["a"] })));
  x.submit(Array.from({ length: 10 }, (_, i) => t(`z-${i}`, ["x-0"], { w: ["a", "c"] })));
  assert.equal(x.processingCount("a"), 20);
  x.flush();
  x.balance();
  const asked = x.stealsAsked("a");
  assert.ok(asked.length > 0);
  assert.ok(asked.every((k) => k.startsWith("z-")), `only z may move: ${asked}`);
  for (const k of asked) x.stealAnswer(k, "a", "ready");
  assert.deepEqual(x.computed("b"), [], "b is not allowed");
  assert.deepEqual(x.computed("c").sort(), asked.sort());
});

// Dask: test_steal.py::test_steal_cheap_data_slow_computation (pinned loosely to a)
Deno.test("stealing: a loose restriction may be stolen by any worker", () => {
  const x = sim([1, 1]);
  x.submit([t("x-0")]);
  x.finish("x-0", "a");
  x.submit(Array.from({ length: 10 }, (_, i) => t(`y-${i}`, ["x-0"], { w: ["a"], lo: true })));
  x.flush();
  x.balance();
  const asked = x.stealsAsked("a");
  assert.equal(asked.length, 4);
  for (const k of asked) x.stealAnswer(k, "a", "ready");
  assert.equal(x.processingCount("b"), 4, "balanced within 5 of each other");
});

// Dask: test_steal.py::test_dont_steal_expensive_data_fast_computation
Deno.test("stealing: moving a large input costs more than it saves: nothing moves", () => {
  const x = loaded([1, 1], 10, {}, 1e9); // 10 s of transfer for 0.5 s tasks
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), []);
});

Deno.test("stealing: tasks measured under 5 ms are not worth a move", () => {
  const x = loaded([1, 1], 10);
  x.finish("y-0", "a", 8, undefined, 1); // y takes 1 ms
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), []);
  assert.equal(x.s.workers.get("a")!.stealable.length, 0, "dropped from the candidates");
});

// Dask: test_steal.py::test_paused_workers_must_not_steal
Deno.test("stealing: a paused worker does not steal", () => {
  const x = loaded([1, 1]);
  x.s.workers.get("b")!.status = "paused";
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), []);
});

Deno.test("stealing: off (workStealing false): nothing is tracked or asked", () => {
  const x = loaded([1, 1], 10, { workStealing: false });
  x.balance();
  assert.deepEqual(x.stealsAsked("a"), []);
  assert.equal(x.s.workers.get("a")!.stealable.length, 0);
});

Deno.test("stealing: root tasks under queuing are not candidates (they queue instead)", () => {
  const x = sim([1, 1], { workerSaturation: 1.1 });
  x.submit(Array.from({ length: 10 }, (_, i) => t(`r-${i}`)));
  for (const ws of x.s.workers.values()) assert.equal(ws.stealable.length, 0);
});

// Dask: test_steal.py::test_new_worker_steals (with queuing off, everything is assigned up front)
Deno.test("stealing: a new worker takes part of the work; a pass sends a bounded number", () => {
  const x = sim([1], { workerSaturation: Infinity });
  x.submit(Array.from({ length: 300 }, (_, i) => t(`r-${i}`)));
  assert.equal(x.processingCount("a"), 300);
  x.addWorker("b", 1);
  x.flush();
  x.balance();
  const asked = x.stealsAsked("a");
  assert.equal(asked.length, 64, "at most MAX_STEALS_PER_PASS per pass");
  for (const k of asked) x.stealAnswer(k, "a", "ready");
  for (let pass = 0; pass < 5; pass++) {
    x.balance();
    for (const k of x.stealsAsked("a")) x.stealAnswer(k, "a", "ready");
  }
  const [a, b] = [x.processingCount("a"), x.processingCount("b")];
  assert.ok(Math.abs(a - b) <= 2, `balanced: ${a} and ${b}`);
});

// Dask: test_steal.py::test_balance_without_dependencies (here: expected work per worker)
Deno.test("stealing: many workers end up with about the same expected work", () => {
  const x = sim([1], { workerSaturation: Infinity });
  x.submit(Array.from({ length: 100 }, (_, i) => t(`r-${i}`)));
  for (const w of ["b", "c", "d", "e"]) x.addWorker(w, 1);
  for (let pass = 0; pass < 10; pass++) {
    x.balance();
    for (const k of x.stealsAsked("a")) x.stealAnswer(k, "a", "ready");
  }
  const counts = [..."abcde"].map((w) => x.processingCount(w));
  assert.ok(Math.max(...counts) / Math.min(...counts) < 3, `unbalanced: ${counts}`);
});

Deno.test("randomized stealing: invariants hold, no task is on two workers, all finish", () => {
  let stolen = 0;
  for (let seed = 1; seed <= 25; seed++) {
    const r = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
    const x = sim([1, 2, 1], { workerSaturation: seed % 2 ? Infinity : 1.1 });
    let nw = 0, nk = 0;
    x.submit([t("x-0")]);
    x.finish("x-0", "a");
    const processing = () => [...x.s.tasks.values()].filter((ts) => ts.state === "processing");
    for (let step = 0; step < 200; step++) {
      const op = r();
      if (op < 0.2) {
        const n = 1 + Math.floor(r() * 8);
        x.submit(Array.from({ length: n }, () =>
          t(`y${nk++}-x`, r() < 0.7 ? ["x-0"] : [], {
            w: r() < 0.2 ? [pick([...x.s.workers.keys()])] : undefined,
            lo: r() < 0.5,
          })));
      } else if (op < 0.4) {
        x.balance();
      } else if (op < 0.65) {
        const inflight = [...x.s.stealsInFlight];
        if (inflight.length) {
          const [ts, st] = pick(inflight);
          const v = st.victim.address;
          const q = r();
          if (q < 0.6) x.stealAnswer(ts.key, v, pick(["ready", "waiting"]));
          else if (q < 0.8) x.stealAnswer(ts.key, v, "executing");
          else {
            x.finish(ts.key, v);
            x.stealAnswer(ts.key, v, "memory");
          }
        }
      } else if (op < 0.85) {
        const p = processing();
        if (p.length) x.finish(pick(p).key);
      } else if (op < 0.92) {
        const wants = x.wantedBy("c").filter((k) => k !== "x-0");
        if (wants.length) x.release([pick(wants)]);
      } else if (op < 0.95 && x.s.workers.size > 1) {
        const w = pick([...x.s.workers.keys()].filter((a) => a !== "a"));
        if (w) x.removeWorker(w, true);
      } else if (op < 0.98 && x.s.workers.size < 5) {
        x.addWorker(`n${nw++}`, 1 + Math.floor(r() * 2));
      }
      // no task is assigned to two workers at once
      for (const ts of processing()) {
        const on = [...x.model].filter(([, m]) => m.has(ts.key)).map(([a]) => a);
        assert.deepEqual(on, [ts.processingOn!.address], `seed ${seed}: ${ts.key} on ${on}`);
      }
    }
    stolen += x.s.tasksStolen;
    for (let i = 0; i < 10_000; i++) {
      const p = processing();
      if (!p.length) break;
      for (const ts of p) if (ts.state === "processing") x.finish(ts.key);
    }
    for (const ts of x.s.tasks.values()) {
      assert.ok(
        ts.state === "memory" || ts.state === "no-worker",
        `seed ${seed}: ${ts.key} stuck in ${ts.state}`,
      );
    }
    assert.equal(x.s.stealsInFlight.size, 0, `seed ${seed}: steals left in flight`);
  }
  assert.ok(stolen > 100, `the scenario should exercise stealing (${stolen} moved)`);
});
