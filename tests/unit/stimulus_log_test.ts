/**
 * The stimulus log: ids of stimuli, a bounded ring of transitions and worker events, and the
 * stories it tells; and the state machine recording into it.
 */
import assert from "node:assert/strict";
import { StimulusLog } from "../../actor/stimulus_log.ts";
import { SchedulerState } from "../../scheduler/state.ts";
import { FN, t } from "../fixtures/task_specs.ts";
import { RecordingOutbox } from "../fixtures/scheduler_harness.ts";

Deno.test("a stimulus id is its kind and a counter; each begin takes the next one", () => {
  const log = new StimulusLog(10);
  log.begin("update-graph");
  assert.equal(log.stimulusId, "update-graph-1");
  log.begin("task-finished");
  assert.equal(log.stimulusId, "task-finished-2");
});

Deno.test("the log is bounded: past its capacity the oldest entries go first", () => {
  const log = new StimulusLog(5);
  const keys = Array.from({ length: 8 }, (_, i) => `k-${i}`);
  for (const k of keys) {
    log.begin("update-graph");
    log.transition(k, "released", "waiting");
  }
  assert.equal(log.size, 5);
  const told = log.story(keys);
  assert.deepEqual(told.map((e) => e.key), keys.slice(3));
  assert.deepEqual(told.map((e) => e.stimulusId), [4, 5, 6, 7, 8].map((n) => `update-graph-${n}`));
  assert.deepEqual(log.story(["k-0", "k-2"]), [], "the oldest three were dropped");
});

Deno.test("a story: a key's transitions and a worker's events (by address or name), oldest first", () => {
  const log = new StimulusLog(100);
  const before = Date.now();
  log.begin("update-graph");
  log.transition("x", "released", "waiting");
  log.transition("y", "released", "waiting");
  log.transition("x", "waiting", "processing", "tcp://a:1");
  log.begin("worker-closed");
  log.workerEvent("tcp://a:1", "alpha", "removed", "connection lost");
  log.transition("x", "processing", "released");
  log.begin("task-finished");
  log.transition("x", "processing", "memory", "tcp://b:2");
  const x = log.story(["x"]);
  assert.deepEqual(
    x.map((e) => [e.stimulusId, e.start, e.finish, e.worker]),
    [
      ["update-graph-1", "released", "waiting", undefined],
      ["update-graph-1", "waiting", "processing", "tcp://a:1"],
      ["worker-closed-2", "processing", "released", undefined],
      ["task-finished-3", "processing", "memory", "tcp://b:2"],
    ],
  );
  for (const e of x) assert.ok(e.time >= before && e.time <= Date.now(), `time ${e.time}`);
  const removed = {
    time: x[2].time,
    stimulusId: "worker-closed-2",
    worker: "tcp://a:1",
    event: "removed",
    reason: "connection lost",
  };
  assert.deepEqual(log.story(["tcp://a:1"]), [removed], "only the worker's events");
  assert.deepEqual(log.story(["alpha"]), [removed], "by name too");
  assert.deepEqual(
    log.story(["worker-closed-2"]).map((e) => e.key ?? e.worker),
    ["tcp://a:1", "x"],
    "everything one stimulus did",
  );
  assert.deepEqual(log.story(["x", "y"]).length, 5);
  assert.deepEqual(log.story([]), []);
  assert.deepEqual(log.story(["nobody"]), []);
});

Deno.test("recording allocates nothing per entry: a full log's heap stays flat", () => {
  const log = new StimulusLog(50_000);
  const keys = Array.from({ length: 64 }, (_, i) => `task-${i}`);
  const fill = (n: number) => {
    for (let i = 0; i < n; i++) {
      if ((i & 1023) === 0) log.begin("task-finished");
      log.transition(keys[i & 63], "processing", "memory", "tcp://w:1");
    }
  };
  fill(200_000); // full, and warmed up
  const before = Deno.memoryUsage().heapUsed;
  fill(2_000_000);
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.equal(log.size, 50_000);
  // an object of a few fields per entry would be about 100 MB here
  assert.ok(grown < 4 * 1024 * 1024, `the heap grew by ${grown} bytes`);
});

Deno.test("the state machine records every transition and worker event with its stimulus", () => {
  const log = new StimulusLog(1000);
  const s = new SchedulerState(new RecordingOutbox(), { validate: true }, log);
  const info = (address: string) => ({
    address,
    name: address,
    nthreads: 1,
    memoryLimit: 0,
    pid: 1,
  });
  log.begin("handshake-ended");
  s.addWorker(info("a"));
  log.begin("client-added");
  s.addClient("c");
  log.begin("update-graph");
  s.updateGraph("c", { op: "update-graph", tasks: [t("x-1")], wanted: ["x-1"], functions: [FN] });
  const first = s.tasks.get("x-1")!.processingOn!.address;
  assert.equal(first, "a");
  log.begin("handshake-ended");
  s.addWorker(info("b"));
  log.begin("worker-closed");
  s.removeWorker("a", "connection lost");
  log.begin("task-finished");
  s.taskFinished("b", { op: "task-finished", k: "x-1", nbytes: 8, start: 0, stop: 1 });
  const steps = log.story(["x-1"]).map((e) => `${e.start}>${e.finish}@${e.stimulusId}`);
  assert.deepEqual(steps, [
    "released>waiting@update-graph-3",
    "waiting>processing@update-graph-3",
    "processing>released@worker-closed-5",
    "released>waiting@worker-closed-5",
    "waiting>processing@worker-closed-5",
    "processing>memory@task-finished-6",
  ]);
  assert.deepEqual(
    log.story(["a"]).map((e) => [e.event, e.reason, e.stimulusId]),
    [["added", "1 threads", "handshake-ended-1"], [
      "removed",
      "connection lost",
      "worker-closed-5",
    ]],
  );
  log.begin("release-keys");
  s.releaseKeys("c", ["x-1"]);
  assert.deepEqual(
    log.story(["x-1"]).slice(-2).map((e) => `${e.start}>${e.finish}@${e.stimulusId}`),
    ["memory>released@release-keys-7", "released>forgotten@release-keys-7"],
  );
});
