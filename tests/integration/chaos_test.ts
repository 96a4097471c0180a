// Chaos, short form: maps plus tree reductions of ~1,000 tasks per round on a LocalCluster with its
// default settings, while worker processes are SIGKILLed every 300–800 ms for a few seconds and
// the scheduler fails once half-way. No value is wrong, nothing hangs, the scheduler's failure is
// recovered from, and the report has what `deno task chaos` prints.
// dask: test_failed_workers.py::test_broken_worker_during_computation
import assert from "node:assert/strict";
import { formatReport, runChaos } from "../../bench/chaos.ts";

Deno.test("chaos: workers SIGKILLed, the scheduler failing once; every value right, nothing hangs", async () => {
  const r = await runChaos({ duration: 3000, nWorkers: 2, leaves: 500, seed: 7 });
  assert.equal(r.hung, false, "a round hung");
  assert.equal(r.wrong, 0, "wrong values");
  assert.equal(r.errors, 0, `errors other than KilledWorker: ${r.errorSamples.join("; ")}`);
  assert.ok(r.kills >= 2, `only ${r.kills} kills`);
  assert.ok(r.rounds >= 2);
  assert.equal(r.tasks, r.rounds * 999);
  assert.equal(r.gaveUp, 0, "a nanny gave up: the kill schedule ignored its restart budget");
  // the scheduler failed once, was replaced, and a whole round ran right on its successor
  assert.equal(r.schedulerKills, 1);
  assert.equal(r.scheduler.length, 1);
  const s = r.scheduler[0];
  assert.ok(s.replacedAt !== undefined && s.replacedAt >= s.failedAt, "never replaced");
  assert.ok(s.recovered, "no round finished right on the new scheduler");
  // every kill has a timeline; the report names each figure
  assert.equal(r.timelines.length, r.kills);
  for (const t of r.timelines) assert.ok(t.killedAt >= r.startedAt);
  assert.ok(r.recoveryMs.length >= 1, "no recovery measured");
  const text = formatReport(r).join("\n");
  for (
    const field of [
      "kills:",
      "scheduler kills:",
      "rounds:",
      "tasks:",
      "wrong:",
      "killed-worker:",
      "hung:",
      "median",
      "p90",
      "max",
      "worst recovery:",
      "removed by the scheduler",
      "new process spawned",
      "new worker registered",
      "its first task finished",
      "scheduler failure at",
    ]
  ) assert.ok(text.includes(field), `the report lacks ${JSON.stringify(field)}:\n${text}`);
});
