// Chaos, short form (issue 5): maps plus tree reductions of ~1,000 tasks per round while random
// worker processes are SIGKILLed every 300–800 ms for a few seconds. Every result is right and
// nothing hangs. `deno task chaos --duration=60` runs the long form and prints its figures.
// dask: test_failed_workers.py::test_broken_worker_during_computation
import assert from "node:assert/strict";
import { runChaos } from "../../bench/chaos.ts";

Deno.test("chaos: workers SIGKILLed every 300-800 ms; every result right, nothing hangs", async () => {
  const r = await runChaos({ duration: 3000, nWorkers: 2, leaves: 500, seed: 7 });
  assert.equal(r.hung, false, "a round hung");
  assert.equal(r.wrong, 0, "wrong results");
  assert.ok(r.kills >= 2, `only ${r.kills} kills`);
  assert.ok(r.rounds >= 1);
  assert.equal(r.tasks, r.rounds * 999);
});
