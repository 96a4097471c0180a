/**
 * The worker's state machine with a memory limit, driven directly: values spill to disk past the
 * target (the spill files are the recording outbox's calls, answered by hand), task inputs and
 * peers' requests wait for values read back, a result over the target is written through, and the
 * worker pauses by its process memory. The MemoryBook's invariants and the pins are checked after
 * every step (tests/fixtures/worker_sim.ts).
 */
import assert from "node:assert/strict";
import type { MissingData, TaskErred, TaskFinished } from "../../comm/protocol.ts";
import { Payload } from "../../comm/serialize.ts";
import type { ServedData } from "../../worker/data_server.ts";
import { formatBytes } from "../../core/format_bytes.ts";
import { blob, ct, memoryConfig, Sim } from "../fixtures/worker_sim.ts";

const MiB = 2 ** 20;

/** A worker of one slot, a limit of 1000 B and a target of 500 B. */
function targetSim(slots = 1): Sim {
  return new Sim(slots, memoryConfig({ target: 500 }));
}

/** Puts `a` (300 B) then `b` (300 B): over the target, `a` is written; returns its file id. */
function spillA(x: Sim, answer = true): { id: number; a: Payload } {
  const a = blob(300);
  x.compute(ct("a"));
  x.done("a", a);
  x.compute(ct("b"));
  x.done("b", blob(300));
  const [[id, written]] = x.out.spills;
  assert.equal(written, a, "the oldest value is written");
  if (answer) x.spilled(id, 304);
  return { id, a };
}

function missing(x: Sim): MissingData[] {
  return x.sent().filter((m): m is MissingData => m.op === "missing-data");
}

// ------------------------------------------------------------------ inputs on disk

Deno.test("an input on disk holds the slot; the task runs once it is read back, with it", () => {
  const x = targetSim();
  const { id, a } = spillA(x);
  assert.equal(x.w.data.where("a"), "disk");
  x.started();
  x.compute(ct("c", { a: [] }));
  x.compute(ct("d"));
  assert.deepEqual(x.out.unspills, [id], "its input is read back");
  assert.deepEqual(x.started(), [], "not executed while its input is on disk");
  assert.equal(x.state("c"), "executing");
  assert.equal(x.w.executing, 1, "it holds the slot");
  assert.equal(x.state("d"), "ready", "the other task waits for the slot");
  x.unspilled(id, a);
  const runs = x.takeExecutions();
  assert.deepEqual(runs.map((r) => r.key), ["c"]);
  assert.equal(runs[0].deps.get("a"), a, "executed with the value read back");
  x.done("c");
  assert.deepEqual(x.started(), ["d"]);
});

Deno.test("free-keys while its input is read back: dropped at once, its slot freed; late answer ignored", () => {
  const x = targetSim();
  const { id, a } = spillA(x);
  x.started();
  x.compute(ct("c", { a: [] }));
  x.compute(ct("d"));
  x.free("c");
  assert.equal(x.state("c"), "forgotten");
  assert.deepEqual(x.started(), ["d"], "the slot went to the next ready task");
  x.unspilled(id, a);
  assert.deepEqual(x.started(), [], "the freed task never runs");
  assert.equal(x.w.data.peek("a"), a, "the value is back, its own task's result");
});

Deno.test("unspillFailed: the waiting task gets missing-data naming this worker; the key is lost", () => {
  const x = targetSim();
  const { id } = spillA(x);
  x.started();
  x.compute(ct("c", { a: [] }));
  x.compute(ct("d"));
  x.sent();
  x.unspillFailed(id, "Input/output error (os error 5)");
  assert.deepEqual(missing(x), [
    { op: "missing-data", k: "a", key: "a", worker: "self" },
    { op: "missing-data", k: "c", key: "a", worker: "self" },
  ]);
  assert.equal(x.state("c"), "forgotten");
  assert.equal(x.state("a"), "forgotten", "its result is no longer here");
  assert.ok(!x.w.data.has("a"));
  assert.deepEqual(x.started(), ["d"], "the slot went to the next ready task");
  assert.ok(x.out.logs.some((l) => l.includes("a") && l.includes("os error 5")), "logged");
});

Deno.test("unspillFailed with nobody waiting any more: the key is reported missing, no crash", () => {
  const x = targetSim();
  const { id } = spillA(x);
  x.compute(ct("c", { a: [] }));
  x.free("c");
  x.sent();
  x.unspillFailed(id, "Input/output error (os error 5)");
  assert.deepEqual(missing(x), [{ op: "missing-data", k: "a", key: "a", worker: "self" }]);
  assert.ok(!x.w.data.has("a"));
  x.unspillFailed(id, "again"); // a stale answer
  assert.deepEqual(x.sent(), []);
});

Deno.test("a ready task whose input was lost meanwhile gets missing-data when its turn comes", () => {
  const x = targetSim();
  const { id } = spillA(x);
  x.compute(ct("c", { a: [] })); // reads a back, holding the only slot
  x.compute(ct("e", { a: [] })); // ready behind it
  x.unspillFailed(id, "Input/output error (os error 5)");
  const msgs = missing(x);
  assert.deepEqual(msgs.map((m) => [m.k, m.key]), [["a", "a"], ["c", "a"], ["e", "a"]]);
  assert.equal(x.state("e"), "forgotten");
  assert.equal(x.w.executing, 0);
});

// ------------------------------------------------------------------ write-through results

const NO_SPACE = "No space left on device (os error 28)";

Deno.test("a result over the target is reported only once written, with its size", () => {
  const x = targetSim();
  x.compute(ct("a"));
  const big = blob(600);
  x.done("a", big, 10, 20);
  assert.equal(x.sent().filter((m) => m.op === "task-finished").length, 0, "not yet reported");
  const [[id, p]] = x.out.spills;
  assert.equal(p, big, "written at once");
  x.spilled(id, 608);
  const fin = x.sent().filter((m): m is TaskFinished => m.op === "task-finished");
  assert.deepEqual(fin, [{ op: "task-finished", k: "a", nbytes: 600, start: 10, stop: 20 }]);
  assert.equal(x.w.data.peek("a"), big, "kept in memory, newest, with a clean copy");
});

Deno.test("a result over the target whose write fails errs its task with a SpillError", () => {
  const x = targetSim();
  x.compute(ct("a"));
  x.done("a", blob(600), 10, 20);
  const [[id]] = x.out.spills;
  x.spillFailed(id, NO_SPACE);
  const msgs = x.sent();
  assert.equal(msgs.filter((m) => m.op === "task-finished").length, 0);
  const [err] = msgs.filter((m): m is TaskErred => m.op === "task-erred");
  assert.equal(err.k, "a");
  assert.equal(err.e.name, "SpillError");
  assert.match(err.e.message, /'a'/, "names the key");
  assert.ok(err.e.message.includes(formatBytes(600)), `names the size: ${err.e.message}`);
  assert.ok(err.e.message.includes(NO_SPACE), "names the cause");
  assert.equal(x.state("a"), "forgotten");
  assert.ok(!x.w.data.has("a"));
  x.compute(ct("b"));
  assert.deepEqual(x.started(), ["a", "b"], "the worker keeps working");
});

Deno.test("a value whose spill write fails stays in memory, with a warning, and is still used", () => {
  const x = targetSim(1);
  const { id, a } = spillA(x, false);
  x.spillFailed(id, NO_SPACE);
  assert.equal(x.w.data.where("a"), "memory");
  assert.ok(x.out.logs.some((l) => l.includes("Spill to disk failed") && l.includes(NO_SPACE)));
  assert.ok(!x.sent().some((m) => m.op === "task-erred"), "no task errs");
  x.started();
  x.compute(ct("c", { a: [] }));
  const [run] = x.takeExecutions();
  assert.equal(run.deps.get("a"), a, "used from memory at once");
  const req = x.serve(["a"]);
  assert.deepEqual(x.out.answers, [[req, { values: { a } }]]);
  assert.deepEqual(x.out.unspills, []);
});

// ------------------------------------------------------------------ serving peers

Deno.test("serveData: memory values at once; a spilled one once read back, read once for two", () => {
  const x = targetSim();
  const { id, a } = spillA(x);
  const b = x.w.data.peek("b")!;
  const r1 = x.serve(["a", "b", "nope"]);
  const r2 = x.serve(["a"]);
  assert.deepEqual(x.out.answers, [], "the answers wait for the value on disk");
  assert.deepEqual(x.out.unspills, [id], "read back once");
  const r3 = x.serve(["b"]);
  assert.deepEqual(x.out.answers, [[r3, { values: { b } }]], "memory values answer at once");
  x.unspilled(id, a);
  assert.deepEqual(x.out.answers.slice(1), [[r1, { values: { a, b } }], [r2, { values: { a } }]]);
});

/** A payload of `n` MiB whose frames share one zeroed buffer (cheap to hold). */
function mib(n: number, frame = new Uint8Array(MiB)): Payload {
  return new Payload(new Uint8Array(0), Array.from({ length: n }, () => frame));
}

/** An answer as key lists (deep-comparing large payloads is slow); checks each value's identity. */
function keysOf(
  answer: ServedData,
  held: Record<string, Payload>,
): { values: string[]; more?: string[] } {
  assert.ok(!("busy" in answer), "not busy");
  for (const [k, v] of Object.entries(answer.values)) assert.equal(v, held[k], k);
  const r: { values: string[]; more?: string[] } = { values: Object.keys(answer.values) };
  if (answer.more) r.more = answer.more;
  return r;
}

Deno.test("serveData: answers in batches of max(32 MiB, a tenth of the limit); at least one value", () => {
  const held = { x: mib(20), y: mib(20), z: mib(15), huge: mib(40) };
  const small = new Sim(1, memoryConfig({ limit: 100 * MiB })); // batch 32 MiB
  small.hold(held);
  small.serve(["x", "y", "z"]);
  small.serve(["y", "z"]);
  small.serve(["huge", "z"]);
  assert.deepEqual(small.out.answers.map(([, a]) => keysOf(a, held)), [
    { values: ["x"], more: ["y", "z"] },
    { values: ["y"], more: ["z"] },
    { values: ["huge"], more: ["z"] },
  ]);
  const large = new Sim(1, memoryConfig({ limit: 500 * MiB })); // batch 50 MiB
  large.hold(held);
  large.serve(["x", "y", "z"]);
  large.serve(["z"]);
  assert.deepEqual(large.out.answers.map(([, a]) => keysOf(a, held)), [
    { values: ["x", "y"], more: ["z"] },
    { values: ["z"] },
  ]);
});

Deno.test("serveData: a spilled value freed while a peer waits for it: answered without it", () => {
  const x = targetSim();
  const { id, a } = spillA(x);
  const req = x.serve(["a", "b"]);
  x.free("a");
  x.unspilled(id, a); // the read ends after all
  const b = x.w.data.peek("b")!;
  assert.deepEqual(x.out.answers, [[req, { values: { b } }]], "the peer is not left waiting");
});

Deno.test("serveData: busy from a paused worker that is sending already; served when it is not", () => {
  const x = new Sim(1, memoryConfig({ pause: 800 }));
  const v = blob(10);
  x.hold({ v });
  x.paused(true);
  x.serve(["v"], 1);
  x.serve(["v"], 0);
  x.paused(false);
  x.sample(900); // paused by memory
  x.serve(["v"], 2);
  x.sample(100);
  x.serve(["v"], 1);
  const answers: [number, ServedData][] = [
    [1, { busy: true }],
    [2, { values: { v } }],
    [3, { busy: true }],
    [4, { values: { v } }],
  ];
  assert.deepEqual(x.out.answers, answers);
});

// ------------------------------------------------------------------ pause

Deno.test("pause by memory: one worker-status each way, Dask's log lines, nothing starts", () => {
  const x = new Sim(1, memoryConfig({ pause: 800 }));
  x.compute(ct("a"));
  x.sample(850, 0);
  assert.deepEqual(x.sent(), [{ op: "worker-status", status: "paused" }]);
  assert.ok(x.out.logs.at(-1)!.includes("Pausing worker"), x.out.logs.at(-1));
  assert.ok(x.out.logs.at(-1)!.includes("Worker is at 85% memory usage"));
  const collects = x.out.collects;
  x.sample(900, 100);
  assert.ok(x.out.collects > collects, "over the pause threshold: garbage collection asked");
  x.compute(ct("b"));
  x.compute(ct("c", { x: ["peer"] }));
  x.done("a");
  assert.deepEqual(x.started(), ["a"], "no new task starts while paused");
  assert.deepEqual(x.fetched(), [], "no fetch while paused");
  x.sample(760, 200); // under the threshold, not by 5 % of the limit
  assert.deepEqual(x.sent().filter((m) => m.op === "worker-status"), []);
  assert.deepEqual(x.started(), []);
  x.sample(740, 300);
  assert.deepEqual(x.sent().filter((m) => m.op === "worker-status"), [
    { op: "worker-status", status: "running" },
  ]);
  assert.ok(x.out.logs.at(-1)!.includes("Resuming worker"));
  assert.deepEqual(x.started(), ["b"]);
  assert.deepEqual(x.fetched(), [["peer", ["x"]]], "the parked fetch goes out");
});

Deno.test("paused by hand and by memory: running again only when both are off", () => {
  const x = new Sim(1, memoryConfig({ pause: 800 }));
  x.paused(true);
  x.sample(850);
  x.compute(ct("a"));
  x.paused(false);
  assert.deepEqual(x.sent(), [{ op: "worker-status", status: "paused" }], "still paused");
  assert.deepEqual(x.started(), []);
  x.paused(true);
  x.sample(100);
  assert.deepEqual(x.sent(), [], "still paused by hand");
  assert.deepEqual(x.started(), []);
  x.paused(false);
  assert.deepEqual(x.sent(), [{ op: "worker-status", status: "running" }]);
  assert.deepEqual(x.started(), ["a"]);
});

Deno.test("a fetch parked while paused is not sent twice when its task is asked again", () => {
  const x = new Sim(1, memoryConfig({ pause: 800 }));
  x.sample(900);
  x.compute(ct("c", { x: ["peer"] }));
  x.free("c");
  x.compute(ct("c", { x: ["peer"] }));
  x.sample(100);
  assert.deepEqual(x.fetched(), [["peer", ["x"]]]);
});
