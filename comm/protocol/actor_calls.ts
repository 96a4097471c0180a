/**
 * Actor method calls on the client–scheduler channel: a client (or a task's client) calls a
 * method of an actor through the scheduler, which relays it to the worker holding the instance
 * (a browser or a remote WebSocket client cannot reach workers) and answers with its result.
 * The client–scheduler tables include these two.
 *
 * @module
 */
import type { Payload } from "../serialize.ts";
import type { ErrorEnvelope } from "../../core/errors.ts";
import { isNum, isPayload, isStr, optEnvelope, optPayload } from "./fields.ts";
import { message, request, type Table } from "./spec.ts";

/**
 * The tag an actor's handle travels by (comm/value_handles.ts), with `{ k: key, c: className }`:
 * an actor task's value is its handle.
 */
export const ACTOR_HANDLE_TAG = "actor";

/** Call `method` of the actor under `key` with the encoded argument array `a`. */
export interface ActorCall {
  op: "actor-call";
  id: number;
  /** The actor's key (its Future's key). */
  key: string;
  method: string;
  /** Encoded argument array. */
  a: Payload;
}

/** Reply to `actor-call`: the method's encoded result `v`, or the error `e`. */
export interface ActorCallReply {
  op: "actor-result";
  id: number;
  v?: Payload;
  e?: ErrorEnvelope;
}

/** Each actor request a client sends, and its reply. */
export interface ActorCallReplies {
  "actor-call": ActorCallReply;
}

/** What a client may send about actors. */
export const ACTOR_CALL_REQUESTS: Table<ActorCall, ActorCallReplies> = {
  "actor-call": request<ActorCall, ActorCallReply>("actor-result", (m) => {
    if (!isNum(m.id)) return "id";
    if (!isStr(m.key)) return "key";
    if (!isStr(m.method)) return "method";
    return isPayload(m.a) ? null : "a";
  }),
};

/** What the scheduler may answer about actors. */
export const ACTOR_CALL_REPLIES: Table<ActorCallReply> = {
  "actor-result": message<ActorCallReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!optPayload(m.v)) return "v";
    return optEnvelope(m.e) ? null : "e";
  }),
};
