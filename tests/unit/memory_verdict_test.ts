// The nanny's restart for memory: its verdict on each reading, and how the exit it causes is
// described (and recognised by the scheduler).
import assert from "node:assert/strict";
import { memoryVerdict } from "../../worker/memory_verdict.ts";
import {
  budgetPercent,
  isMemoryExit,
  memoryExit,
  memoryRestartLine,
} from "../../core/memory_budget.ts";

const MIB = 2 ** 20;

Deno.test("memoryVerdict: under or at the threshold is ok; past it, SIGTERM first, then SIGKILL", () => {
  const terminate = 285 * MIB;
  assert.equal(memoryVerdict(100 * MIB, terminate, false), "ok");
  assert.equal(memoryVerdict(terminate, terminate, false), "ok");
  assert.equal(memoryVerdict(terminate + 1, terminate, false), "term");
  assert.equal(memoryVerdict(terminate + 1, terminate, true), "kill");
  // asked to end and back under the threshold: it is left to end on its own
  assert.equal(memoryVerdict(100 * MIB, terminate, true), "ok");
  // unknown (no /proc, or the process is gone)
  assert.equal(memoryVerdict(null, terminate, false), "ok");
  assert.equal(memoryVerdict(null, terminate, true), "ok");
});

Deno.test("memory budget: Dask's restart line, the exit's description, and its recognition", () => {
  assert.equal(budgetPercent(0.95), "95%");
  assert.equal(budgetPercent(0.5), "50%");
  assert.equal(
    memoryRestartLine("tcp://127.0.0.1:4000", 1234, 0.95),
    "Worker tcp://127.0.0.1:4000 (pid=1234) exceeded 95% memory budget. Restarting...",
  );
  const how = memoryExit(0.95, 291 * MIB + 1000, 300 * MIB);
  assert.equal(how, "exceeded 95% memory budget (RSS 291 MiB of 300 MiB); killed by its nanny");
  assert.ok(isMemoryExit(how));
  assert.ok(isMemoryExit(memoryExit(1, 2 ** 30, 2 ** 30)));
  for (
    const other of ["exit code 1", "killed by signal SIGKILL", "", "exceeded 95% memory budget"]
  ) {
    assert.ok(!isMemoryExit(other), other);
  }
});
