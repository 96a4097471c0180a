/**
 * Named values the scheduler keeps for every client and task, on the client–scheduler channel:
 * queues (`Queue`), single-value registers (`Variable`) and flags (`Event`). A value put in a
 * queue or a variable travels encoded, with the keys of the Futures inside it; the scheduler
 * holds those keys until the value is taken, overwritten or deleted. A client that took values
 * holding keys says so once it wants them itself (`shared-keys-taken`), and the scheduler's
 * hold for the hand-over ends. The client–scheduler tables include these two.
 *
 * @module
 */
import type { Payload } from "../serialize.ts";
import type { ErrorEnvelope } from "../../core/errors.ts";
import {
  each,
  isBool,
  isNat,
  isNum,
  isPayload,
  isSize,
  isStr,
  opt,
  optEnvelope,
  strs,
} from "./fields.ts";
import type { Ack } from "./common.ts";
import { message, request, type Table } from "./spec.ts";

/**
 * Put a value in queue `name` (made with `maxsize` if it does not exist; 0 = unbounded);
 * waits up to `timeout` ms (forever when absent) for room. Answered by `ack`.
 */
export interface QueuePut {
  op: "queue-put";
  id: number;
  name: string;
  maxsize: number;
  /** The encoded value (Futures inside are Refs to `keys`). */
  v: Payload;
  keys: string[];
  timeout?: number;
}

/**
 * Take values from queue `name`: one (`batch` absent), every one there now (`batch: true`, no
 * wait), or `batch` of them; waits up to `timeout` ms (forever when absent) for them.
 */
export interface QueueGet {
  op: "queue-get";
  id: number;
  name: string;
  maxsize: number;
  timeout?: number;
  batch?: true | number;
}

/** How many values queue `name` holds. */
export interface QueueSize {
  op: "queue-size";
  id: number;
  name: string;
  maxsize: number;
}

/** Set variable `name` (its former value is let go). Answered by `ack`. */
export interface VariableSet {
  op: "variable-set";
  id: number;
  name: string;
  v: Payload;
  keys: string[];
}

/** The value of variable `name`, waiting up to `timeout` ms (forever when absent) for one. */
export interface VariableGet {
  op: "variable-get";
  id: number;
  name: string;
  timeout?: number;
}

/** Unset variable `name` (its value is let go). Answered by `ack`. */
export interface VariableDelete {
  op: "variable-delete";
  id: number;
  name: string;
}

/** Set event `name`: every waiter is released. Answered by `ack`. */
export interface EventSet {
  op: "event-set";
  id: number;
  name: string;
}

/** Clear event `name`. Answered by `ack`. */
export interface EventClear {
  op: "event-clear";
  id: number;
  name: string;
}

/** Whether event `name` is set. */
export interface EventIsSet {
  op: "event-is-set";
  id: number;
  name: string;
}

/** Waits up to `timeout` ms (forever when absent) for event `name` to be set. */
export interface EventWait {
  op: "event-wait";
  id: number;
  name: string;
  timeout?: number;
}

/** The client now wants these keys it took from a queue or a variable (no reply). */
export interface SharedKeysTaken {
  op: "shared-keys-taken";
  keys: string[];
}

/** Values taken from a queue or a variable: each encoded (`vs`) with its keys, or the error `e`. */
export interface SharedItems {
  op: "shared-items";
  id: number;
  vs: Payload[];
  keys: string[][];
  e?: ErrorEnvelope;
}

/** A queue's size, or the error `e`. */
export interface SharedCount {
  op: "shared-count";
  id: number;
  n: number;
  e?: ErrorEnvelope;
}

/** Whether an event is set (for `event-wait`: false when the timeout passed first). */
export interface SharedFlag {
  op: "shared-flag";
  id: number;
  flag: boolean;
}

/** Client messages on queues, variables and events. */
export type SharedValueRequest =
  | QueuePut
  | QueueGet
  | QueueSize
  | VariableSet
  | VariableGet
  | VariableDelete
  | EventSet
  | EventClear
  | EventIsSet
  | EventWait
  | SharedKeysTaken;

/** Each request's reply. */
export interface SharedValueReplies {
  "queue-put": Ack;
  "queue-get": SharedItems;
  "queue-size": SharedCount;
  "variable-set": Ack;
  "variable-get": SharedItems;
  "variable-delete": Ack;
  "event-set": Ack;
  "event-clear": Ack;
  "event-is-set": SharedFlag;
  "event-wait": SharedFlag;
}

/** The scheduler's replies (`ack` is declared once, with the client–scheduler table). */
export type SharedValueReply = SharedItems | SharedCount | SharedFlag;

const isBatch = (v: unknown): boolean => v === true || (isNat(v) && (v as number) >= 1);

/** Checks the fields every request on a named value has. */
function named(m: { readonly id: unknown; readonly name: unknown }): "id" | "name" | null {
  if (!isNum(m.id)) return "id";
  return isStr(m.name) ? null : "name";
}

/** The requests on queues, variables and events a client sends the scheduler. */
export const SHARED_VALUE_REQUESTS: Table<SharedValueRequest, SharedValueReplies> = {
  "queue-put": request<QueuePut, Ack>("ack", (m) => {
    const bad = named(m);
    if (bad) return bad;
    if (!isNat(m.maxsize)) return "maxsize";
    if (!isPayload(m.v)) return "v";
    if (!strs(m.keys)) return "keys";
    return opt(m.timeout, isSize) ? null : "timeout";
  }),
  "queue-get": request<QueueGet, SharedItems>("shared-items", (m) => {
    const bad = named(m);
    if (bad) return bad;
    if (!isNat(m.maxsize)) return "maxsize";
    if (!opt(m.timeout, isSize)) return "timeout";
    return opt(m.batch, isBatch) ? null : "batch";
  }),
  "queue-size": request<QueueSize, SharedCount>("shared-count", (m) => {
    const bad = named(m);
    if (bad) return bad;
    return isNat(m.maxsize) ? null : "maxsize";
  }),
  "variable-set": request<VariableSet, Ack>("ack", (m) => {
    const bad = named(m);
    if (bad) return bad;
    if (!isPayload(m.v)) return "v";
    return strs(m.keys) ? null : "keys";
  }),
  "variable-get": request<VariableGet, SharedItems>("shared-items", (m) => {
    const bad = named(m);
    if (bad) return bad;
    return opt(m.timeout, isSize) ? null : "timeout";
  }),
  "variable-delete": request<VariableDelete, Ack>("ack", named),
  "event-set": request<EventSet, Ack>("ack", named),
  "event-clear": request<EventClear, Ack>("ack", named),
  "event-is-set": request<EventIsSet, SharedFlag>("shared-flag", named),
  "event-wait": request<EventWait, SharedFlag>("shared-flag", (m) => {
    const bad = named(m);
    if (bad) return bad;
    return opt(m.timeout, isSize) ? null : "timeout";
  }),
  "shared-keys-taken": message<SharedKeysTaken>((m) => strs(m.keys) ? null : "keys"),
};

/** The scheduler's replies on queues, variables and events. */
export const SHARED_VALUE_REPLIES: Table<SharedValueReply> = {
  "shared-items": message<SharedItems>((m) => {
    if (!isNum(m.id)) return "id";
    if (!each(m.vs, isPayload)) return "vs";
    const n = (m.vs as unknown[]).length;
    if (!each(m.keys, strs) || (m.keys as unknown[]).length !== n) return "keys";
    return optEnvelope(m.e) ? null : "e";
  }),
  "shared-count": message<SharedCount>((m) => {
    if (!isNum(m.id)) return "id";
    if (!isNat(m.n)) return "n";
    return optEnvelope(m.e) ? null : "e";
  }),
  "shared-flag": message<SharedFlag>((m) => {
    if (!isNum(m.id)) return "id";
    return isBool(m.flag) ? null : "flag";
  }),
};
