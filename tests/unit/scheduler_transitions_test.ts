/**
 * The transition engine's rules, driven through the shared harness: released, waiting,
 * processing, memory, erred and forgotten, and what clients and workers hear on the way; stale and
 * odd messages.
 */
import assert from "node:assert/strict";
import { FN, t } from "../fixtures/task_specs.ts";
import { validateState } from "../../scheduler/validate_state.ts";
import type { KeyInMemory } from "../../comm/protocol.ts";
import { encodeValue } from "../../comm/serialize.ts";
import { BOOM, cancelled, erred, inMemory, Sim, sim } from "../fixtures/scheduler_harness.ts";

// ------------------------------------------------------------------ basic transitions

Deno.test("released → waiting → processing: compute-task carries function, args, priority", () => {
  const x = sim([2]);
  x.submit([t("x-1", [], { p: 3 })]);
  assert.equal(x.state("x-1"), "processing");
  const [m] = x.computes("a");
  assert.equal(m.k, "x-1");
  assert.equal(m.f, FN.h);
  assert.deepEqual(m.fn, FN);
  assert.deepEqual(m.d, {});
  assert.deepEqual(m.p, [-3, 0, 1], "(minus user priority, generation, order)");
  assert.equal(m.r, true, "a client wants it: the value comes back inline");
  assert.ok(m.a.header.byteLength > 0);
  assert.equal(x.s.counts.processing, 1);
  assert.equal(x.task("x-1").prefix, "x");
});

Deno.test("a task waits for its dependencies, then runs where they are", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1"), t("b-1", ["a-1"])], ["b-1"]);
  assert.deepEqual(x.states(["a-1", "b-1"]), ["processing", "waiting"]);
  assert.deepEqual([...x.task("b-1").waitingOn()].map((d) => d.key), ["a-1"]);
  const w = x.on("a-1");
  assert.equal(x.computes(w)[0].r, false, "nobody wants a-1's value itself");
  x.finish("a-1", w, 1000);
  assert.deepEqual(x.states(["a-1", "b-1"]), ["memory", "processing"]);
  assert.equal(x.on("b-1"), w, "runs where its input is");
  const [m] = x.computes(w);
  assert.deepEqual(m.d, { "a-1": [] }, "the input is local");
  assert.equal(m.fn, undefined, "the function was already sent to this worker");
});

Deno.test("no worker: ready tasks are no-worker until a worker joins", () => {
  const x = new Sim();
  x.addClient("c");
  x.submit([t("a-1"), t("a-2"), t("b-1", ["a-1"])], ["a-2", "b-1"]);
  assert.deepEqual(x.states(["a-1", "a-2", "b-1"]), ["no-worker", "no-worker", "waiting"]);
  assert.equal(x.s.unrunnable.size, 2);
  x.addWorker("w", 2);
  assert.deepEqual(x.states(["a-1", "a-2", "b-1"]), ["processing", "processing", "waiting"]);
  assert.deepEqual(x.computed("w"), ["a-1", "a-2"], "in priority order");
});

Deno.test("no-worker tasks go to a joining worker in priority order; the rest queue", () => {
  const x = new Sim({ workerSaturation: 1 });
  x.addClient("c");
  x.submit(Array.from({ length: 6 }, (_, i) => t(`r-${i}`)));
  assert.equal(x.s.counts["no-worker"], 6);
  x.addWorker("w", 2);
  assert.deepEqual(x.computed("w"), ["r-0", "r-1"]);
  assert.equal(x.s.counts.queued, 4);
  x.finish("r-0");
  assert.deepEqual(x.computed("w"), ["r-2"]);
});

Deno.test("processing → memory: the client hears key-in-memory with the inline value", () => {
  const x = sim();
  x.submit([t("a-1")]);
  const v = encodeValue(42);
  x.finish("a-1", "a", v.nbytes, v);
  const [m] = x.takeClient();
  assert.equal(m.op, "key-in-memory");
  assert.equal((m as KeyInMemory).k, "a-1");
  assert.deepEqual((m as KeyInMemory).w, ["a"]);
  assert.equal((m as KeyInMemory).v, v);
  assert.equal(x.s.tasksCompleted, 1);
  assert.equal(x.s.durations.get("a"), 0.01);
  assert.equal(x.task("a-1").nbytes, v.nbytes);
  assert.equal(x.s.workers.get("a")!.nbytes, v.nbytes);
});

Deno.test("processing → erred without retries: key-erred blames the task itself", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.err("a-1");
  assert.equal(x.state("a-1"), "erred");
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "a-1");
  assert.equal(e.blame, "a-1");
  assert.deepEqual(e.e, BOOM);
  assert.equal(x.processingCount("a"), 0);
});

Deno.test("processing → erred with retries: run again until the retries are spent", () => {
  const x = sim();
  x.submit([t("a-1", [], { r: 2 })]);
  assert.deepEqual(x.computed("a"), ["a-1"]);
  x.err("a-1");
  assert.equal(x.state("a-1"), "processing");
  assert.deepEqual(x.computed("a"), ["a-1"], "sent again");
  assert.deepEqual(x.takeClient(), [], "the client hears nothing yet");
  x.err("a-1");
  assert.equal(x.state("a-1"), "processing");
  x.err("a-1");
  assert.equal(x.state("a-1"), "erred");
  assert.equal(erred(x.takeClient()).length, 1);
});

Deno.test("a retried task with dependencies waits for them again only if they are gone", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1", ["a-1"], { r: 1 })], ["b-1"]);
  x.finish("a-1");
  x.err("b-1");
  assert.deepEqual(x.states(["a-1", "b-1"]), ["memory", "processing"]);
  x.finish("b-1");
  assert.deepEqual(x.states(["a-1", "b-1"]), ["released", "memory"]);
});

Deno.test("erred propagates to every dependent with blame; unneeded siblings stop", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("s-1"), t("b-1", ["a-1", "s-1"]), t("c-1", ["b-1"])], ["c-1"]);
  const sib = x.on("s-1");
  x.flush();
  x.err("a-1", x.on("a-1"), { name: "TypeError", message: "bad" });
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["erred", "erred", "erred"]);
  assert.equal(x.state("s-1"), "released", "the sibling is no longer needed");
  assert.deepEqual(x.freed(sib), ["s-1"], "its worker is told to drop it");
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "c-1");
  assert.equal(e.blame, "a-1");
  assert.equal(e.e.name, "TypeError");
  assert.equal(x.task("b-1").blame!.key, "a-1");
  x.release(["c-1"]);
  assert.equal(x.s.tasks.size, 0, "everything is forgotten");
});

Deno.test("a task submitted on top of an erred key errs at once with the same blame", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.err("a-1");
  x.takeClient();
  x.submit([t("b-1", ["a-1"])]);
  assert.equal(x.state("b-1"), "erred");
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "b-1");
  assert.equal(e.blame, "a-1");
  assert.deepEqual(x.computed("a"), ["a-1"], "nothing new runs");
});

Deno.test("memory → released when nobody needs it; released → forgotten cascades", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1", ["a-1"]), t("c-1", ["b-1"])], ["c-1"]);
  x.finish("a-1");
  x.finish("b-1");
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["released", "memory", "processing"]);
  assert.deepEqual(x.freed("a"), ["a-1"], "a-1's data is dropped once b-1 has run");
  x.finish("c-1");
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["released", "released", "memory"]);
  assert.deepEqual(x.freed("a"), ["b-1"]);
  x.release(["c-1"]);
  assert.deepEqual(x.states(["a-1", "b-1", "c-1"]), ["forgotten", "forgotten", "forgotten"]);
  assert.deepEqual(x.freed("a"), ["c-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.equal(x.s.clients.has("c"), true);
  assert.deepEqual(x.wantedBy("c"), []);
});

Deno.test("client release while processing stops the work and frees the worker's slot", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("a-1"), t("a-2"), t("a-3")]); // more than 2 per thread: root-ish, so they queue
  assert.deepEqual(x.states(["a-1", "a-2"]), ["processing", "queued"]);
  x.flush();
  x.release(["a-1"]);
  assert.equal(x.state("a-1"), "forgotten");
  assert.deepEqual(x.freed("a"), ["a-1"]);
  assert.equal(x.state("a-2"), "processing", "the slot went to the queued task");
});

Deno.test("client release while waiting stops its dependencies too (stop unnecessary work)", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1"), t("a-2"), t("b-1", ["a-1", "a-2"])], ["b-1"]);
  x.finish("a-1", x.on("a-1"));
  const w2 = x.on("a-2");
  const w1 = x.holders("a-1")[0];
  x.flush();
  x.release(["b-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.ok(x.freed(w2).includes("a-2"), "the running dependency is cancelled");
  if (w1 !== w2) assert.deepEqual(x.freed(w1), ["a-1"], "the finished one is dropped");
});

Deno.test("client release of a queued task", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("a-1"), t("a-2"), t("a-3")]);
  x.release(["a-2"]);
  assert.deepEqual(x.states(["a-1", "a-2", "a-3"]), ["processing", "forgotten", "queued"]);
  x.finish("a-1");
  assert.equal(x.state("a-3"), "processing");
});

Deno.test("client release of a no-worker task", () => {
  const x = new Sim();
  x.addClient("c");
  x.submit([t("a-1")]);
  x.release(["a-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.equal(x.s.unrunnable.size, 0);
});

Deno.test("a key wanted by two clients lives until both release it", () => {
  const x = sim();
  x.addClient("d");
  x.submit([t("a-1")], ["a-1"], "c");
  x.submit([t("a-1")], ["a-1"], "d");
  x.finish("a-1");
  assert.deepEqual(inMemory(x.takeClient("c")), ["a-1"]);
  assert.deepEqual(inMemory(x.takeClient("d")), ["a-1"]);
  x.release(["a-1"], "c");
  assert.equal(x.state("a-1"), "memory");
  x.release(["a-1"], "c");
  assert.equal(x.state("a-1"), "memory", "a second release by the same client is ignored");
  x.release(["a-1"], "d");
  assert.equal(x.state("a-1"), "forgotten");
});

Deno.test("client disconnect releases everything it wanted, and only that", () => {
  const x = sim([2], { workerSaturation: Infinity });
  x.addClient("d");
  x.submit([t("a-1"), t("b-1", ["a-1"]), t("s-1")], ["b-1", "s-1"], "c");
  x.submit([t("s-1")], ["s-1"], "d");
  x.finish("a-1");
  x.flush();
  x.removeClient("c");
  assert.deepEqual(x.states(["a-1", "b-1", "s-1"]), ["forgotten", "forgotten", "processing"]);
  assert.deepEqual(x.freed("a").sort(), ["a-1", "b-1"]);
  assert.equal(x.s.clients.has("c"), false);
  x.removeClient("c");
  x.removeClient("d");
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("resubmitting a key in memory reuses it: no recompute", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.finish("a-1");
  x.flush();
  x.submit([t("a-1")]);
  assert.deepEqual(x.computed("a"), []);
  assert.deepEqual(inMemory(x.takeClient()), ["a-1"]);
  x.addClient("d");
  x.submit([t("a-1")], ["a-1"], "d");
  assert.deepEqual(inMemory(x.takeClient("d")), ["a-1"]);
  assert.deepEqual(x.computed("a"), []);
});

Deno.test("resubmitting an erred key returns the same error: no recompute", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.err("a-1");
  x.flush();
  x.submit([t("a-1")]);
  assert.deepEqual(x.computed("a"), []);
  const [e] = erred(x.takeClient());
  assert.equal(e.k, "a-1");
  assert.deepEqual(e.e, BOOM);
});

Deno.test("resubmitting a key still in a graph: reused while pending", () => {
  const x = sim([1], { workerSaturation: 1 });
  x.submit([t("a-1"), t("a-2"), t("a-3")]);
  x.addClient("d");
  x.submit([t("a-2")], ["a-2"], "d");
  assert.equal(x.state("a-2"), "queued");
  x.finish("a-1");
  x.finish("a-2");
  assert.deepEqual(inMemory(x.takeClient("d")), ["a-2"]);
});

Deno.test("wanting a released intermediate computes it again from its lineage", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1", ["a-1"])], ["b-1"]);
  x.finish("a-1");
  x.finish("b-1");
  assert.equal(x.state("a-1"), "released");
  x.flush();
  x.submit([t("a-1")]);
  assert.equal(x.state("a-1"), "processing");
  assert.deepEqual(x.computed("a"), ["a-1"]);
});

Deno.test("a dependency unknown to the scheduler: the task errs with CancelledError", () => {
  const x = sim();
  x.submit([t("b-1", ["gone-1"])]);
  assert.equal(x.state("b-1"), "erred");
  const [e] = erred(x.takeClient());
  assert.equal(e.e.name, "CancelledError");
  assert.match(e.e.message, /gone-1/);
  assert.equal(e.blame, "b-1");
  assert.deepEqual(x.computed("a"), []);
  x.release(["b-1"]);
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("a dependency listed later in the same graph is not unknown", () => {
  const x = sim();
  x.submit([t("b-1", ["a-1"]), t("a-1")], ["b-1"]);
  assert.deepEqual(x.states(["a-1", "b-1"]), ["processing", "waiting"]);
});

Deno.test("a function the client never sent: the task errs with ProtocolError", () => {
  const x = sim();
  x.submit([t("a-1", [], { f: "nope" })], ["a-1"], "c", []);
  assert.equal(x.state("a-1"), "erred");
  assert.equal(erred(x.takeClient())[0].e.name, "ProtocolError");
});

Deno.test("tasks nobody wants or needs are not kept", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1")], ["b-1"]);
  assert.equal(x.state("a-1"), "forgotten");
  assert.equal(x.state("b-1"), "processing");
});

Deno.test("a task submitted without a connected client is not kept", () => {
  const x = sim();
  x.submit([t("a-1")], ["a-1"], "ghost");
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("requestValues: memory, erred, unknown", () => {
  const x = sim([2]);
  x.submit([t("a-1"), t("b-1")]);
  x.finish("a-1");
  x.err("b-1");
  x.flush();
  x.requestValues(["a-1", "b-1", "zz-1"]);
  const msgs = x.takeClient();
  assert.deepEqual(inMemory(msgs), ["a-1"]);
  assert.deepEqual(erred(msgs).map((m) => m.k), ["b-1"]);
  assert.deepEqual(cancelled(msgs), ["zz-1"]);
});

Deno.test("only the value of a task a client wants is asked back inline", () => {
  const x = sim();
  x.submit([t("a-1"), t("b-1", ["a-1"])], ["b-1"]);
  assert.equal(x.computes("a")[0].r, false);
  x.finish("a-1");
  assert.equal(x.computes("a")[0].r, true);
});

// ------------------------------------------------------------------ stale and odd messages

Deno.test("a late task-finished for a released task: the worker is told to drop it", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.release(["a-1"]);
  x.flush();
  x.finish("a-1", "a");
  assert.equal(x.state("a-1"), "forgotten");
  assert.deepEqual(x.freed("a"), ["a-1"]);
});

Deno.test("task-finished from another worker: it holds the value; the assignee is told to stop", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1")]);
  const w = x.on("a-1");
  const other = w === "a" ? "b" : "a";
  x.flush();
  x.finish("a-1", other);
  assert.deepEqual(x.holders("a-1"), [other]);
  assert.deepEqual(x.freed(w), ["a-1"]);
});

Deno.test("task-finished for a key already in memory adds a replica", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1")]);
  const w = x.on("a-1");
  const other = w === "a" ? "b" : "a";
  x.finish("a-1", w, 100);
  x.finish("a-1", other, 100);
  assert.deepEqual(x.holders("a-1"), ["a", "b"]);
  assert.equal(x.s.workers.get(other)!.nbytes, 100);
  assert.equal(x.s.tasksCompleted, 1);
  x.release(["a-1"]);
  assert.equal(x.s.workers.get(other)!.nbytes, 0);
});

Deno.test("task-erred from a worker not running the task is ignored", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1")]);
  const w = x.on("a-1");
  x.err("a-1", w === "a" ? "b" : "a");
  assert.equal(x.state("a-1"), "processing");
  x.err("zz-1", w);
  x.s.taskErred("nobody", { op: "task-erred", k: "a-1", e: BOOM, start: 0, stop: 0 });
  validateState(x.s);
  assert.equal(x.state("a-1"), "processing");
});

Deno.test("messages from an unknown worker are ignored", () => {
  const x = sim();
  x.submit([t("a-1")]);
  x.s.taskFinished("nobody", { op: "task-finished", k: "a-1", nbytes: 1, start: 0, stop: 1 });
  x.s.missingData("nobody", "a-1", "zz", "nobody");
  validateState(x.s);
  assert.equal(x.state("a-1"), "processing");
  x.s.removeWorker("nobody", "never was");
  x.s.removeClient("nobody");
  x.s.releaseKeys("nobody", ["a-1"]);
  validateState(x.s);
  assert.equal(x.state("a-1"), "processing");
});
