// The state machine of queues, variables and events, driven directly (no sockets): replies,
// deadlines and held keys come out as effects.
import assert from "node:assert/strict";
import { Payload } from "../../comm/serialize.ts";
import { TimeoutError } from "../../core/errors.ts";
import type { SharedEffect, SharedItem, SharedReply } from "../../scheduler/shared_effects.ts";
import { type SharedValueAsk, SharedValuesState } from "../../scheduler/shared_values_state.ts";

let nextWait = 1;

/** Sends request `m` from `client`; returns its wait number and the effects. */
function ask(s: SharedValuesState, client: string, m: Record<string, unknown>) {
  const wait = nextWait++;
  const effects = s.request({ wait, client }, { id: 0, ...m } as SharedValueAsk);
  return { wait, effects };
}

/** A value tagged `tag` (in its one byte) holding `keys`. */
function item(tag: number, keys: string[] = []): { v: Payload; keys: string[] } {
  return { v: new Payload(new Uint8Array([tag]), []), keys };
}

const tagOf = (i: SharedItem) => i.v.header[0];

function replyOf(effects: SharedEffect[], wait: number): SharedReply | undefined {
  for (const e of effects) if (e.kind === "reply" && e.wait === wait) return e.reply;
  return undefined;
}

function tagsOf(effects: SharedEffect[], wait: number): number[] {
  const r = replyOf(effects, wait);
  assert.ok(r && "items" in r, `request ${wait} got items: ${JSON.stringify(r)}`);
  return r.items.map(tagOf);
}

function errorOf(effects: SharedEffect[], wait: number): Error {
  const r = replyOf(effects, wait);
  assert.ok(r && "error" in r, `request ${wait} failed: ${JSON.stringify(r)}`);
  return r.error;
}

const kinds = (effects: SharedEffect[], kind: SharedEffect["kind"]) =>
  effects.filter((e) => e.kind === kind);
const wanted = (effects: SharedEffect[]) =>
  kinds(effects, "want").flatMap((e) => e.kind === "want" ? e.keys : []);
const unwanted = (effects: SharedEffect[]) =>
  kinds(effects, "unwant").flatMap((e) => e.kind === "unwant" ? e.keys : []);

const put = (tag: number, keys: string[] = [], extra: Record<string, unknown> = {}) => ({
  op: "queue-put",
  name: "q",
  maxsize: 0,
  ...item(tag, keys),
  ...extra,
});
const get = (extra: Record<string, unknown> = {}) => ({
  op: "queue-get",
  name: "q",
  maxsize: 0,
  ...extra,
});

// ---- queues -------------------------------------------------------------------------------------

Deno.test("queue: values come out first in, first out, whoever put and took them", () => {
  const s = new SharedValuesState();
  for (const [i, c] of ["a", "b", "a"].entries()) {
    const { wait, effects } = ask(s, c, put(i + 1));
    assert.deepEqual(replyOf(effects, wait), { ok: true });
  }
  const size = ask(s, "b", { op: "queue-size", name: "q", maxsize: 0 });
  assert.deepEqual(replyOf(size.effects, size.wait), { n: 3 });
  const g1 = ask(s, "b", get()), g2 = ask(s, "a", get()), g3 = ask(s, "b", get());
  assert.deepEqual([tagsOf(g1.effects, g1.wait), tagsOf(g2.effects, g2.wait)], [[1], [2]]);
  assert.deepEqual(tagsOf(g3.effects, g3.wait), [3]);
});

Deno.test("queue: a get waits for a value, and the first waiting get is served first", () => {
  const s = new SharedValuesState();
  const g1 = ask(s, "a", get({ timeout: 500 })), g2 = ask(s, "b", get());
  assert.deepEqual(g1.effects, [{ kind: "arm", wait: g1.wait, ms: 500 }]);
  assert.deepEqual(g2.effects, []); // no timeout: no deadline
  const p = ask(s, "c", put(7));
  assert.deepEqual(replyOf(p.effects, p.wait), { ok: true });
  assert.deepEqual(tagsOf(p.effects, g1.wait), [7]);
  assert.equal(replyOf(p.effects, g2.wait), undefined);
  assert.deepEqual(tagsOf(ask(s, "c", put(8)).effects, g2.wait), [8]);
});

Deno.test("queue: a get times out with a TimeoutError; with timeout 0 it tries once", () => {
  const s = new SharedValuesState();
  const g = ask(s, "a", get({ timeout: 100 }));
  const out = s.expire(g.wait);
  const e = errorOf(out, g.wait);
  assert.ok(e instanceof TimeoutError && /Queue "q": no value came/.test(e.message), e.message);
  assert.ok(!s.isWaiting(g.wait));
  const now = ask(s, "a", get({ timeout: 0 }));
  assert.ok(errorOf(now.effects, now.wait) instanceof TimeoutError);
  assert.equal(kinds(now.effects, "arm").length, 0);
  // a deadline that passes after the get was served does nothing
  const late = ask(s, "a", get({ timeout: 100 }));
  ask(s, "b", put(1));
  assert.deepEqual(s.expire(late.wait), []);
});

Deno.test("queue: batch true takes every value there now, without waiting", () => {
  const s = new SharedValuesState();
  const empty = ask(s, "a", get({ batch: true, timeout: 1000 }));
  assert.deepEqual(replyOf(empty.effects, empty.wait), { items: [] });
  for (const t of [1, 2, 3]) ask(s, "b", put(t));
  const all = ask(s, "a", get({ batch: true }));
  assert.deepEqual(tagsOf(all.effects, all.wait), [1, 2, 3]);
  const size = ask(s, "b", { op: "queue-size", name: "q", maxsize: 0 });
  assert.deepEqual(replyOf(size.effects, size.wait), { n: 0 });
});

Deno.test("queue: batch n waits for n values; a get behind it waits its turn", () => {
  const s = new SharedValuesState();
  const two = ask(s, "a", get({ batch: 2 }));
  const one = ask(s, "b", get());
  const p1 = ask(s, "c", put(1));
  assert.equal(replyOf(p1.effects, two.wait), undefined);
  assert.equal(replyOf(p1.effects, one.wait), undefined); // first come, first served
  const p2 = ask(s, "c", put(2));
  assert.deepEqual(tagsOf(p2.effects, two.wait), [1, 2]);
  assert.deepEqual(tagsOf(ask(s, "c", put(3)).effects, one.wait), [3]);
  // the head's timeout lets the one behind it through
  const three = ask(s, "a", get({ batch: 3, timeout: 50 }));
  const next = ask(s, "b", get());
  ask(s, "c", put(4));
  const out = s.expire(three.wait);
  assert.match(errorOf(out, three.wait).message, /3 values did not come/);
  assert.deepEqual(tagsOf(out, next.wait), [4]);
});

Deno.test("queue: a full queue makes put wait for room, or time out and let its keys go", () => {
  const s = new SharedValuesState();
  const full = { maxsize: 1 };
  assert.deepEqual(wanted(ask(s, "a", put(1, ["k1"], full)).effects), ["k1"]);
  const waiting = ask(s, "a", put(2, ["k2"], { ...full, timeout: 100 }));
  assert.deepEqual(waiting.effects, [
    { kind: "want", keys: ["k2"] }, // held while it waits
    { kind: "arm", wait: waiting.wait, ms: 100 },
  ]);
  const out = s.expire(waiting.wait);
  const e = errorOf(out, waiting.wait);
  assert.ok(e instanceof TimeoutError && /stayed full \(maxsize 1\)/.test(e.message), e.message);
  assert.deepEqual(unwanted(out), ["k2"]);
  const now = ask(s, "a", put(3, [], { ...full, timeout: 0 }));
  assert.ok(errorOf(now.effects, now.wait) instanceof TimeoutError);
  // a get makes room: the waiting put gets in
  const later = ask(s, "b", put(4, [], full));
  const g = ask(s, "c", get(full));
  assert.deepEqual(tagsOf(g.effects, g.wait), [1]);
  assert.deepEqual(replyOf(g.effects, later.wait), { ok: true });
  const g2 = ask(s, "c", get(full));
  assert.deepEqual(tagsOf(g2.effects, g2.wait), [4]);
});

Deno.test("queue: another maxsize for the same name, or a batch above maxsize, is an error", () => {
  const s = new SharedValuesState();
  ask(s, "a", put(1, [], { maxsize: 2 }));
  const other = ask(s, "b", put(2, ["k"], { maxsize: 3 }));
  assert.match(errorOf(other.effects, other.wait).message, /exists with maxsize 2.*maxsize 3/);
  assert.deepEqual(wanted(other.effects), []); // nothing held for a refused put
  const big = ask(s, "a", get({ maxsize: 2, batch: 3 }));
  assert.match(errorOf(big.effects, big.wait).message, /at most 2 values/);
  // the queue is kept while a client that used it is connected, with its maxsize
  ask(s, "a", get({ maxsize: 2 }));
  assert.equal(s.queues.queues.get("q")?.maxsize, 2);
});

Deno.test("queue: a queued Future's keys are held until the getter says it wants them", () => {
  const s = new SharedValuesState();
  const p = ask(s, "a", put(1, ["f", "g"]));
  assert.deepEqual(wanted(p.effects), ["f", "g"]);
  assert.deepEqual(wanted(ask(s, "a", put(2, ["f"])).effects), []); // counted, wanted once
  assert.equal(s.holds.count("f"), 2);
  const g = ask(s, "b", get());
  assert.deepEqual(unwanted(g.effects), []); // handed over: still held
  assert.deepEqual(s.holds.handedTo("b"), new Map([["f", 1], ["g", 1]]));
  assert.deepEqual(unwanted(s.keysTaken("b", ["f", "g"])), ["g"]); // f is still queued
  const g2 = ask(s, "b", get());
  assert.deepEqual(tagsOf(g2.effects, g2.wait), [2]);
  assert.deepEqual(unwanted(s.keysTaken("b", ["f"])), ["f"]);
  assert.deepEqual(s.holds.keys(), []);
  // keys a client did not take are ignored
  assert.deepEqual(s.keysTaken("b", ["f"]), []);
});

Deno.test("queue: a client gone drops its waits and lets go what was handed to it", () => {
  const s = new SharedValuesState();
  ask(s, "a", put(1, ["k1"], { maxsize: 1 }));
  const wp = ask(s, "gone", put(2, ["k2"], { maxsize: 1, timeout: 100 }));
  const g = ask(s, "gone", get({ maxsize: 1 }));
  assert.deepEqual(tagsOf(g.effects, g.wait), [1]); // k1 handed to "gone"
  assert.ok(replyOf(g.effects, wp.wait)); // its waiting put got in
  const wg = ask(s, "gone", get({ maxsize: 1 })); // takes 2 at once
  const again = ask(s, "gone", get({ maxsize: 1, timeout: 100 }));
  const other = ask(s, "b", get({ maxsize: 1 }));
  assert.deepEqual(tagsOf(wg.effects, wg.wait), [2]);
  const out = s.clientGone("gone");
  assert.deepEqual(kinds(out, "disarm"), [{ kind: "disarm", wait: again.wait }]);
  assert.deepEqual(unwanted(out).sort(), ["k1", "k2"]);
  assert.equal(kinds(out, "reply").length, 0);
  assert.ok(!s.isWaiting(again.wait) && s.isWaiting(other.wait));
  // a waiting put of a gone client lets its keys go, and is not served
  const full = ask(s, "c", put(3, [], { maxsize: 1 }));
  assert.deepEqual(tagsOf(full.effects, other.wait), [3]);
  ask(s, "c", put(4, [], { maxsize: 1 }));
  ask(s, "gone2", put(5, ["k5"], { maxsize: 1 }));
  assert.deepEqual(unwanted(s.clientGone("gone2")), ["k5"]);
  // once nobody uses it and it is empty, the queue keeps no state
  ask(s, "b", get({ maxsize: 1 }));
  s.clientGone("a");
  s.clientGone("b");
  s.clientGone("c");
  assert.equal(s.queues.queues.size, 0);
});

Deno.test("queue: a request whose connection closed is dropped; the next waiter is served", () => {
  const s = new SharedValuesState();
  const g1 = ask(s, "a", get({ timeout: 100 })), g2 = ask(s, "a", get());
  assert.deepEqual(s.abandon([g1.wait]), [{ kind: "disarm", wait: g1.wait }]);
  const p = ask(s, "b", put(1));
  assert.deepEqual(tagsOf(p.effects, g2.wait), [1]);
  assert.deepEqual(s.expire(g1.wait), []); // its deadline came anyway: nothing
});

// ---- variables ----------------------------------------------------------------------------------

const vset = (tag: number, keys: string[] = []) => ({
  op: "variable-set",
  name: "v",
  ...item(tag, keys),
});

Deno.test("variable: get waits until set; set hands the value to every waiter", () => {
  const s = new SharedValuesState();
  const g1 = ask(s, "a", { op: "variable-get", name: "v", timeout: 100 });
  const g2 = ask(s, "b", { op: "variable-get", name: "v" });
  assert.deepEqual(g1.effects, [{ kind: "arm", wait: g1.wait, ms: 100 }]);
  const set = ask(s, "c", vset(1));
  assert.deepEqual(replyOf(set.effects, set.wait), { ok: true });
  assert.deepEqual([tagsOf(set.effects, g1.wait), tagsOf(set.effects, g2.wait)], [[1], [1]]);
  const g3 = ask(s, "a", { op: "variable-get", name: "v", timeout: 0 });
  assert.deepEqual(tagsOf(g3.effects, g3.wait), [1]); // stays set
});

Deno.test("variable: get times out with a TimeoutError; an unset variable keeps no state", () => {
  const s = new SharedValuesState();
  const g = ask(s, "a", { op: "variable-get", name: "v", timeout: 200 });
  const e = errorOf(s.expire(g.wait), g.wait);
  assert.ok(e instanceof TimeoutError && /Variable "v" was not set/.test(e.message), e.message);
  const now = ask(s, "a", { op: "variable-get", name: "v", timeout: 0 });
  assert.ok(errorOf(now.effects, now.wait) instanceof TimeoutError);
  assert.equal(s.variables.variables.size, 0);
});

Deno.test("variable: holds its Future until overwritten or deleted, and for each get until taken", () => {
  const s = new SharedValuesState();
  assert.deepEqual(wanted(ask(s, "c1", vset(1, ["f"])).effects), ["f"]);
  s.clientGone("c1"); // the setter leaves: the variable still holds f
  assert.equal(s.holds.count("f"), 1);
  const g = ask(s, "c2", { op: "variable-get", name: "v" });
  assert.deepEqual(tagsOf(g.effects, g.wait), [1]);
  assert.equal(s.holds.count("f"), 2); // the variable's, and the hand-over's
  // overwritten before c2 said it took f: f stays held for c2
  const over = ask(s, "c3", vset(2, ["g"]));
  assert.deepEqual([wanted(over.effects), unwanted(over.effects)], [["g"], []]);
  assert.deepEqual(unwanted(s.keysTaken("c2", ["f"])), ["f"]);
  // set to the same Future again: held throughout
  assert.deepEqual(ask(s, "c3", vset(3, ["g"])).effects.filter((e) => e.kind !== "reply"), []);
  const del = ask(s, "c3", { op: "variable-delete", name: "v" });
  assert.deepEqual(unwanted(del.effects), ["g"]);
  assert.deepEqual(replyOf(del.effects, del.wait), { ok: true });
  assert.equal(s.variables.variables.size, 0);
  assert.deepEqual(s.holds.keys(), []);
});

Deno.test("variable: a client gone drops its waiting gets", () => {
  const s = new SharedValuesState();
  const g = ask(s, "a", { op: "variable-get", name: "v", timeout: 100 });
  assert.deepEqual(s.clientGone("a"), [{ kind: "disarm", wait: g.wait }]);
  assert.equal(s.variables.variables.size, 0);
  const set = ask(s, "b", vset(1));
  assert.equal(replyOf(set.effects, g.wait), undefined);
});

// ---- events -------------------------------------------------------------------------------------

const ev = (op: string, extra: Record<string, unknown> = {}) => ({ op, name: "e", ...extra });
const flagOf = (effects: SharedEffect[], wait: number) => {
  const r = replyOf(effects, wait);
  assert.ok(r && "flag" in r, `request ${wait} got a flag: ${JSON.stringify(r)}`);
  return r.flag;
};

Deno.test("event: set releases every waiter with true; wait on a set event is true at once", () => {
  const s = new SharedValuesState();
  const w1 = ask(s, "a", ev("event-wait")), w2 = ask(s, "b", ev("event-wait", { timeout: 50 }));
  const is = ask(s, "c", ev("event-is-set"));
  assert.equal(flagOf(is.effects, is.wait), false);
  const set = ask(s, "c", ev("event-set"));
  assert.deepEqual(replyOf(set.effects, set.wait), { ok: true });
  assert.equal(flagOf(set.effects, w1.wait), true);
  assert.equal(flagOf(set.effects, w2.wait), true);
  const w3 = ask(s, "a", ev("event-wait", { timeout: 0 }));
  assert.equal(flagOf(w3.effects, w3.wait), true);
  const is2 = ask(s, "c", ev("event-is-set"));
  assert.equal(flagOf(is2.effects, is2.wait), true);
});

Deno.test("event: wait gives false at its timeout; a cleared event without waiters has no state", () => {
  const s = new SharedValuesState();
  const w = ask(s, "a", ev("event-wait", { timeout: 50 }));
  assert.deepEqual(w.effects, [{ kind: "arm", wait: w.wait, ms: 50 }]);
  assert.equal(s.events.events.size, 1);
  assert.equal(flagOf(s.expire(w.wait), w.wait), false);
  assert.equal(s.events.events.size, 0);
  const now = ask(s, "a", ev("event-wait", { timeout: 0 }));
  assert.equal(flagOf(now.effects, now.wait), false);
  ask(s, "a", ev("event-set"));
  assert.equal(s.events.events.size, 1); // set: it is state
  const clear = ask(s, "a", ev("event-clear"));
  assert.deepEqual(replyOf(clear.effects, clear.wait), { ok: true });
  assert.equal(s.events.events.size, 0);
  // a waiter keeps a cleared event; its client leaving drops both
  const w2 = ask(s, "b", ev("event-wait"));
  ask(s, "a", ev("event-clear"));
  assert.equal(s.events.events.size, 1);
  assert.deepEqual(s.clientGone("b"), [{ kind: "disarm", wait: w2.wait }]);
  assert.equal(s.events.events.size, 0);
});

Deno.test("close drops every queue, variable and event without a word", () => {
  const s = new SharedValuesState();
  ask(s, "a", put(1, ["k"]));
  ask(s, "a", vset(1, ["k"]));
  ask(s, "a", ev("event-wait"));
  s.close();
  assert.equal(s.queues.queues.size + s.variables.variables.size + s.events.events.size, 0);
  assert.deepEqual(s.holds.keys(), []);
});
