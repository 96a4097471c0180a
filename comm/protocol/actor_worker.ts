/**
 * Actor method calls on the worker–scheduler channel: the scheduler relays clients' calls to
 * the worker holding each actor, in batches, and the worker answers with their results, in
 * batches. Both are one-way messages pairing calls and results by the scheduler's call number
 * (not by `id`, which the connection's own requests use). The worker–scheduler tables include
 * these two.
 *
 * @module
 */
import type { Payload } from "../serialize.ts";
import type { ErrorEnvelope } from "../../core/errors.ts";
import { each, envelope, isNat, isObj, isPayload, isStr } from "./fields.ts";
import { message, type Table } from "./spec.ts";

/** One call relayed to a worker: number `i`, `method` of actor `key`, arguments `a`. */
export interface RelayedActorCall {
  /** The scheduler's call number (echoed by the result). */
  i: number;
  /** The actor's key. */
  k: string;
  /** The method's name. */
  m: string;
  /** Encoded argument array. */
  a: Payload;
}

/** One call's outcome: its encoded result `v`, or the error `e`. */
export interface ActorCallResult {
  i: number;
  v?: Payload;
  e?: ErrorEnvelope;
}

/** Scheduler -> worker: run these actor calls, in this order. */
export interface ActorCalls {
  op: "actor-calls";
  calls: RelayedActorCall[];
}

/** Worker -> scheduler: these actor calls ended. */
export interface ActorResults {
  op: "actor-results";
  results: ActorCallResult[];
}

const isRelayedCall = (v: unknown): boolean =>
  isObj(v) && isNat(v.i) && isStr(v.k) && isStr(v.m) && isPayload(v.a);

const isCallResult = (v: unknown): boolean =>
  isObj(v) && isNat(v.i) && (v.v === undefined ? envelope(v.e) : isPayload(v.v));

/** What the scheduler may send a worker about actors. */
export const ACTOR_CALLS_TO_WORKER: Table<ActorCalls> = {
  "actor-calls": message<ActorCalls>((m) => each(m.calls, isRelayedCall) ? null : "calls"),
};

/** What a worker may send the scheduler about actors. */
export const ACTOR_RESULTS_TO_SCHEDULER: Table<ActorResults> = {
  "actor-results": message<ActorResults>((m) => each(m.results, isCallResult) ? null : "results"),
};
