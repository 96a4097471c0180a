/**
 * The relayed actor calls' state machine (scheduler/actor_calls.ts), driven directly: calls
 * routed to the worker holding the actor, waiting while it is made or re-created, failing when
 * it is restarted ("restarted on another worker ... state was lost") or lost ("the worker
 * holding this actor was lost"), and results paired with the calls that asked.
 */
import assert from "node:assert/strict";
import { encodeValue } from "../../comm/serialize.ts";
import type { ActorCall, ActorCallReply, RelayedActorCall } from "../../comm/protocol.ts";
import { type ActorCallEffect, ActorCallState } from "../../scheduler/actor_calls.ts";
import type { ActorStatus } from "../../scheduler/actor_records.ts";

const READY_A: ActorStatus = { kind: "ready", worker: "a" };
const PENDING: ActorStatus = { kind: "pending" };

let nextId = 1;
/** Client "c"'s call of `method` on actor `key`. */
function call(method: string, key = "K"): ActorCall {
  return { op: "actor-call", id: nextId++, key, method, a: encodeValue([]) };
}

/** The calls relayed to each worker, in order. */
function relayed(effects: ActorCallEffect[]): Record<string, RelayedActorCall[]> {
  const out: Record<string, RelayedActorCall[]> = {};
  for (const e of effects) if (e.to === "worker") (out[e.worker] ??= []).push(...e.calls);
  return out;
}

/** The answers to clients, as [client, request id, error message or "ok"]. */
function answers(effects: ActorCallEffect[]): [string, number, string][] {
  return effects.filter((e) => e.to === "client").map((e) => {
    const r = (e as { client: string; reply: ActorCallReply }).reply;
    return [(e as { client: string }).client, r.id, r.e ? r.e.message : "ok"];
  });
}

Deno.test("a call on a ready actor is relayed to its worker; its result answers the caller", () => {
  const m = new ActorCallState();
  const c1 = call("increment"), c2 = call("increment");
  const r1 = relayed(m.call("c", c1, READY_A)).a;
  const r2 = relayed(m.call("d", c2, READY_A)).a;
  assert.equal(r1.length, 1);
  assert.deepEqual([r1[0].k, r1[0].m], ["K", "increment"]);
  assert.notEqual(r1[0].i, r2[0].i, "each call has its own number");
  assert.equal(m.inFlight("a"), 2);
  const out = m.results("a", [{ i: r2[0].i, v: encodeValue(2) }, {
    i: r1[0].i,
    v: encodeValue(1),
  }]);
  assert.deepEqual(answers(out), [["d", c2.id, "ok"], ["c", c1.id, "ok"]]);
  assert.equal(m.inFlight(), 0);
});

Deno.test("results that match no call in flight on that worker are dropped", () => {
  const m = new ActorCallState();
  const [r] = relayed(m.call("c", call("x"), READY_A)).a;
  assert.deepEqual(m.results("b", [{ i: r.i, v: encodeValue(0) }]), [], "from another worker");
  assert.deepEqual(m.results("a", [{ i: 999, v: encodeValue(0) }]), [], "an unknown number");
  assert.equal(answers(m.results("a", [{ i: r.i, v: encodeValue(0) }])).length, 1);
  assert.deepEqual(m.results("a", [{ i: r.i, v: encodeValue(0) }]), [], "answered once");
});

Deno.test("calls on an actor being made wait, then go to its worker in arrival order", () => {
  const m = new ActorCallState();
  const calls = [call("first"), call("second"), call("third")];
  for (const c of calls) assert.deepEqual(m.call("c", c, PENDING), []);
  assert.equal(m.waiting("K"), 3);
  const out = relayed(m.actorEvent({ kind: "ready", key: "K", worker: "b" }));
  assert.deepEqual(out.b.map((r) => r.m), ["first", "second", "third"]);
  assert.equal(m.waiting("K"), 0);
  assert.equal(m.inFlight("b"), 3);
});

Deno.test("a restarted actor: calls in flight fail saying its state was lost; later ones wait", () => {
  const m = new ActorCallState();
  const inflight = call("increment");
  m.call("c", inflight, READY_A);
  const other = call("increment", "L"); // another actor on the same worker is not concerned
  m.call("c", other, READY_A);
  const failed = answers(m.actorEvent({ kind: "restarting", key: "K", worker: "a" }));
  assert.equal(failed.length, 1);
  assert.equal(failed[0][1], inflight.id);
  assert.match(failed[0][2], /restarted on another worker/);
  assert.match(failed[0][2], /its state was lost/);
  // a call made while it is being re-created waits for the new instance
  const later = call("increment");
  assert.deepEqual(m.call("c", later, PENDING), []);
  const out = relayed(m.actorEvent({ kind: "ready", key: "K", worker: "b" }));
  assert.deepEqual(out.b.map((r) => r.m), ["increment"]);
  assert.equal(m.inFlight("a"), 1, "the other actor's call is still in flight");
});

Deno.test("a lost actor (no restarts): calls in flight and waiting fail with its error", () => {
  const m = new ActorCallState();
  const inflight = call("increment");
  m.call("c", inflight, READY_A);
  m.actorEvent({ kind: "restarting", key: "K", worker: "a" });
  const waiting = call("increment");
  m.call("c", waiting, PENDING);
  const error = { name: "ActorLostError", message: "the worker holding this actor was lost: K" };
  const out = answers(m.actorEvent({ kind: "failed", key: "K", error }));
  assert.deepEqual(out, [["c", waiting.id, error.message]]);
  // and a call made after is answered at once with the key's error
  const after = call("increment");
  assert.deepEqual(answers(m.call("c", after, { kind: "failed", error })), [
    ["c", after.id, error.message],
  ]);
});

Deno.test("a worker that leaves fails the calls in flight on it: the worker holding it was lost", () => {
  const m = new ActorCallState();
  const onA = call("slow"), onB = call("slow", "L");
  m.call("c", onA, READY_A);
  m.call("c", onB, { kind: "ready", worker: "b" });
  const out = answers(m.workerRemoved("a"));
  assert.equal(out.length, 1);
  assert.equal(out[0][1], onA.id);
  assert.match(out[0][2], /the worker holding this actor was lost/);
  assert.equal(m.inFlight("a"), 0);
  assert.equal(m.inFlight("b"), 1);
  assert.deepEqual(m.workerRemoved("a"), []);
});

Deno.test("a call on no actor fails at once; a forgotten actor fails the calls waiting for it", () => {
  const m = new ActorCallState();
  const c = call("increment", "nope");
  const [[, id, message]] = answers(m.call("c", c, { kind: "gone" }));
  assert.equal(id, c.id);
  assert.match(message, /no actor nope is held: it was released/);
  const waiting = call("increment", "G");
  m.call("c", waiting, PENDING);
  const out = answers(m.actorEvent({ kind: "gone", key: "G" }));
  assert.deepEqual(out.map((a) => a[1]), [waiting.id]);
});

Deno.test("a client that leaves: its waiting calls are dropped and its results go nowhere", () => {
  const m = new ActorCallState();
  const mine = call("x"), theirs = call("x");
  m.call("gone", mine, PENDING);
  m.call("stays", theirs, PENDING);
  const inflight = call("y", "L");
  const [r] = relayed(m.call("gone", inflight, READY_A)).a;
  m.clientGone("gone");
  assert.equal(m.waiting("K"), 1);
  assert.deepEqual(m.results("a", [{ i: r.i, v: encodeValue(1) }]), []);
  const out = relayed(m.actorEvent({ kind: "ready", key: "K", worker: "a" }));
  assert.equal(out.a.length, 1);
});
