/**
 * An executor's actor table (worker/executor_actors.ts) with stand-in threads: calls go to the
 * thread whose actor task made the instance, batched; an actor released while being made is
 * dropped once made; a thread that dies fails the calls in flight on it; a call on an actor no
 * thread holds fails at once.
 */
import assert from "node:assert/strict";
import { encodeValue } from "../../comm/serialize.ts";
import type { ActorCallResult, ToThread, WireOutcome } from "../../comm/protocol.ts";
import { ExecutorActors } from "../../worker/executor_actors.ts";

/** A stand-in thread: records what is posted to it. */
function thread(index: number) {
  const posted: ToThread[] = [];
  return { index, posted, worker: { postMessage: (m: ToThread) => void posted.push(m) } };
}

const made = (k: string): WireOutcome => ({ k, s: 0, t: 0, v: [new Uint8Array([0xc0]), []] });
const call = (i: number, k: string, m = "increment") => ({ i, k, m, a: encodeValue([]) });
const tick = () => new Promise<void>((r) => queueMicrotask(r));

Deno.test("calls go to the thread that made the actor, in one message per tick", async () => {
  const results: ActorCallResult[] = [];
  const table = new ExecutorActors<ReturnType<typeof thread>>((r) => results.push(...r));
  const t0 = thread(0), t1 = thread(1);
  table.creating("K");
  table.settled(t1, [made("K"), made("plain")]);
  table.call([call(1, "K"), call(2, "K")]);
  await tick();
  assert.deepEqual(t0.posted, []);
  assert.equal(t1.posted.length, 1);
  const msg = t1.posted[0] as Extract<ToThread, { op: "actor-calls" }>;
  assert.deepEqual(msg.calls.map((c) => [c.i, c.k, c.m]), [[1, "K", "increment"], [
    2,
    "K",
    "increment",
  ]]);
  table.results(t1, [{ i: 2, v: [new Uint8Array([1]), []] }, {
    i: 1,
    e: { name: "E", message: "m" },
  }]);
  assert.deepEqual(results.map((r) => [r.i, r.v !== undefined]), [[2, true], [1, false]]);
  table.results(t1, [{ i: 1, v: [new Uint8Array([1]), []] }]);
  assert.equal(results.length, 2, "a result is taken once");
});

Deno.test("a call on an actor no thread holds fails at once; a failed actor task holds none", () => {
  const results: ActorCallResult[] = [];
  const table = new ExecutorActors<ReturnType<typeof thread>>((r) => results.push(...r));
  table.creating("K");
  table.settled(thread(0), [{ k: "K", s: 0, t: 0, e: { name: "TypeError", message: "ctor" } }]);
  table.call([call(7, "K"), call(8, "nope")]);
  assert.deepEqual(results.map((r) => [r.i, r.e?.name]), [[7, "ActorLostError"], [
    8,
    "ActorLostError",
  ]]);
  assert.match(results[1].e!.message, /not held on this worker/);
});

Deno.test("an actor released while being made is dropped as soon as it is made", () => {
  const table = new ExecutorActors<ReturnType<typeof thread>>(() => {});
  const t = thread(0);
  table.creating("K");
  table.drop(["K"]);
  table.settled(t, [made("K")]);
  assert.deepEqual(t.posted, [{ op: "actor-drop", keys: ["K"] }]);
  const results: ActorCallResult[] = [];
  const again = new ExecutorActors<ReturnType<typeof thread>>((r) => results.push(...r));
  again.creating("K");
  again.settled(t, [made("K")]);
  again.drop(["K"]);
  again.call([call(1, "K")]);
  assert.equal(results[0].e?.name, "ActorLostError", "dropped: no longer held");
});

Deno.test("a thread that dies fails the calls in flight on its actors, and forgets them", async () => {
  const results: ActorCallResult[] = [];
  const table = new ExecutorActors<ReturnType<typeof thread>>((r) => results.push(...r));
  const t0 = thread(0), t1 = thread(1);
  table.creating("A");
  table.creating("B");
  table.settled(t0, [made("A")]);
  table.settled(t1, [made("B")]);
  table.call([call(1, "A"), call(2, "B")]);
  await tick();
  table.died(t0, "close() was called in the thread");
  assert.deepEqual(results.map((r) => r.i), [1]);
  assert.match(results[0].e!.message, /thread holding actor A died .*state was lost/);
  table.results(t0, [{ i: 1, v: [new Uint8Array([1]), []] }]);
  assert.equal(results.length, 1, "a late result of the dead thread is dropped");
  table.call([call(3, "A")]);
  assert.match(results[1].e!.message, /not held on this worker/);
});

Deno.test("a release does not overtake the calls that came before it", () => {
  const table = new ExecutorActors<ReturnType<typeof thread>>(() => {});
  const t0 = thread(0);
  table.creating("K");
  table.settled(t0, [made("K")]);
  table.call([call(1, "K")]);
  table.drop(["K"]);
  assert.deepEqual(t0.posted.map((m) => m.op), ["actor-calls", "actor-drop"]);
});

Deno.test("an actor task that failed, or whose thread crashed, leaves nothing behind", () => {
  const table = new ExecutorActors<ReturnType<typeof thread>>(() => {});
  const t0 = thread(0);
  table.creating("F");
  table.drop(["F"]); // released while being made
  table.settled(t0, [{ k: "F", s: 0, t: 0, e: { name: "E", message: "ctor" } }]);
  table.creating("C");
  table.lost(["C"]);
  table.creating("F"); // the same keys made again later: not dropped on arrival
  table.creating("C");
  table.settled(t0, [made("F"), made("C")]);
  assert.deepEqual(t0.posted, []);
});
