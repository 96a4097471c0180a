/**
 * validateState: every kind of inconsistency is caught and named, and the `validate` option runs
 * it after every stimulus.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { sim } from "../fixtures/scheduler_harness.ts";
import { SchedulerState } from "../../scheduler/state.ts";
import { InvalidStateError, validateState } from "../../scheduler/validate_state.ts";
import type { SchedulerOutbox } from "../../scheduler/graph_state.ts";

/**
 * A state with a task of each kind: r-1 in memory on "a" (wanted), w-1 waiting on q-0,
 * q-0..q-2 (a root-ish prefix: one processing, two queued), g-1 holding a's GPU, g-2 queued for it.
 */
function busy() {
  const x = sim([], { workerSaturation: 1 });
  x.addWorker("a", 1, "a", { GPU: 1 });
  x.submit([t("r-1")]);
  x.finish("r-1", "a", 100);
  x.submit([t("q-0"), t("q-1"), t("q-2"), t("w-1", ["q-0"])]);
  x.submit([t("g-1", [], { rs: { GPU: 1 } }), t("g-2", [], { rs: { GPU: 1 } })]);
  assert.deepEqual(
    x.states(["r-1", "q-0", "q-1", "w-1", "g-1", "g-2"]),
    ["memory", "processing", "queued", "waiting", "processing", "queued"],
  );
  validateState(x.s);
  return x;
}

const corruptions: [string, (x: ReturnType<typeof busy>) => void, RegExp][] = [
  ["counts", (x) => x.s.counts.memory++, /counts\.memory is 2, but 1 tasks are memory/],
  ["who has / has what", (x) => x.s.workers.get("a")!.hasWhat.clear(), /r-1 \(memory\).*hasWhat/],
  [
    "processing / processing set",
    (x) => x.s.workers.get("a")!.processing.delete(x.task("q-0")),
    /q-0 \(processing\): not in a's processing set/,
  ],
  ["wants of unknown clients", (x) => x.task("r-1").addWant("ghost"), /unknown client ghost/],
  ["nbytes", (x) => x.s.workers.get("a")!.nbytes += 1, /worker a: nbytes 101/],
  ["queue membership", (x) => x.s.queued.remove(x.task("q-1")), /q-1 \(queued\): queue/],
  [
    "waiting on nothing",
    (x) => x.task("w-1").clearWaitingOn(),
    /w-1 \(waiting\): waits on nothing/,
  ],
  [
    "waiters",
    (x) => x.task("q-0").waiters!.delete(x.task("w-1")),
    /w-1 \(waiting\): not a waiter of its dependency q-0/,
  ],
  [
    "unrunnable membership",
    (x) => x.s.unrunnable.add(x.task("q-2")),
    /q-2 \(queued\): unrunnable membership/,
  ],
  ["prefix counts", (x) => (x.s.prefixCounts as Map<string, number>).set("q", 9), /prefix q/],
  [
    "resources held",
    (x) => x.s.workers.get("a")!.usedResources!.GPU = 0,
    /worker a: GPU used 0, its tasks need 1/,
  ],
  [
    "resource queue",
    (x) => x.s.resourceNeeds.delete(x.task("g-2")),
    /g-2 queued for resources it does not need/,
  ],
  ["occupancy", (x) => x.s.workers.get("a")!.occupancy += 1, /worker a: occupancy/],
  [
    "a forgotten dependency",
    (x) => x.s.tasks.delete("q-0"),
    /w-1 \(waiting\): depends on forgotten q-0/,
  ],
];

Deno.test("validateState names each kind of inconsistency by its key or worker", () => {
  for (const [what, corrupt, message] of corruptions) {
    const x = busy();
    corrupt(x);
    assert.throws(() => validateState(x.s), (e: Error) => {
      assert.ok(e instanceof InvalidStateError, `${what}: ${e}`);
      assert.match(e.message, message, what);
      return true;
    });
  }
});

Deno.test("the validate option checks after every stimulus; it is off by default", () => {
  const out: SchedulerOutbox = { worker() {}, client() {}, event() {} };
  const info = { address: "a", name: "a", nthreads: 1, memoryLimit: 0, pid: 1 };
  const checked = new SchedulerState(out, { validate: true });
  const unchecked = new SchedulerState(out);
  for (const s of [checked, unchecked]) {
    s.addWorker(info);
    s.addClient("c");
    s.counts.memory++; // a bug somewhere else
  }
  assert.throws(() => checked.addClient("d"), InvalidStateError);
  unchecked.addClient("d");
  assert.throws(() => validateState(unchecked), /counts\.memory/);
});
