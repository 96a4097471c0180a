/**
 * How a message is declared. A channel module declares, for each direction, the union of its
 * messages, the reply of each request (a type-level map), and a table typed from both: one
 * entry per op holding its validator and, for a request, its reply op. The compiler rejects a
 * table that misses an op of the union or has one more, a key that is not its message's op,
 * a request declared without its reply (or with another), and a validator naming a field the
 * message does not have. Op sets, the validation dispatch and reply matching come from the
 * tables.
 *
 * ```ts
 * export type ClientToScheduler = WhoHas | ...;
 * export interface ClientRequestReplies { "who-has": WhoHasReply; ... }
 * export const CLIENT_TO_SCHEDULER: Table<ClientToScheduler, ClientRequestReplies> = {
 *   "who-has": request<WhoHas, WhoHasReply>("who-has-reply", (m) =>
 *     !isNum(m.id) ? "id" : strs(m.keys) ? null : "keys"),
 *   ...
 * };
 * ```
 */
import type { Obj } from "./fields.ts";

/** What every message has: its op. */
export interface Op {
  op: string;
}

/** What every request and every reply has: the id that pairs them. */
export interface Id {
  id: number;
}

/**
 * The fields of message `M` as a validator sees them: any value. A validator naming a field
 * `M` does not have does not compile.
 */
export type Fields<M> = { readonly [K in keyof M]-?: unknown };

/** Checks a message: returns the name of its first wrong field, or null when it is well formed. */
export type Validator<M> = (m: Fields<M>) => (keyof M & string) | null;

/** What validation and reply matching read of a declaration (its types erased). */
export interface SpecEntry {
  /** Returns the first wrong field of a message with this op, or null when it is well formed. */
  readonly check: (m: Obj) => string | null;
  /** A request's reply op (the reply echoes the request's `id`); null for a one-way message. */
  readonly reply: string | null;
}

/** One message's declaration: its validator, and for a request the op of its reply. */
export interface Spec<M extends Op, R extends Op> extends SpecEntry {
  readonly reply: R["op"] | null;
  /** Type only, never set: the message declared, and its reply (never for none), exactly. */
  readonly types?: { message: M; reply: (r: R) => R };
}

/** Declares a one-way message (or a reply) by its validator. */
export function message<M extends Op>(check: Validator<M>): Spec<M, never> {
  return { check: check as unknown as SpecEntry["check"], reply: null };
}

/** Declares a request `M`, answered by `R` (which echoes its `id`), by its validator. */
export function request<M extends Op & Id, R extends Op & Id>(
  reply: R["op"],
  check: Validator<M>,
): Spec<M, R> {
  return { check: check as unknown as SpecEntry["check"], reply };
}

/** A reply map of union `U`: each key is an op of `U`, each value a reply with an id. */
export type ReplyMap<U extends Op, R> = { [O in keyof R]: O extends U["op"] ? Op & Id : never };

/** The reply of request op `O` in reply map `R` (never: `O` is not a request). */
type ReplyIn<R, O> = O extends keyof R ? R[O] extends Op ? R[O] : never : never;

/**
 * The table of one direction: each op of union `U` to the spec of its message, with the reply
 * that map `R` gives a request.
 */
export type Table<U extends Op, R extends ReplyMap<U, R> = Record<never, never>> = {
  readonly [O in U["op"]]: Spec<Extract<U, { op: O }>, ReplyIn<R, O>>;
};

/** A set of ops that remembers, for the compiler, the union of messages it admits. */
export interface OpSet<M extends Op> extends ReadonlySet<string> {
  /** Type only (never set). */
  readonly admits?: M;
}

/** The ops of a table, as a set for one lookup per message. */
export function opsOf<M extends Op>(table: Table<M, any>): OpSet<M> {
  return new Set(Object.keys(table));
}
