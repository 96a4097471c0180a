/**
 * Every message dtask sends over a connection, gathered from the channel tables: the `Message`
 * union, validation of what arrives (one table lookup and one validator per message), which
 * ops answer requests and what each request's reply is, and narrowing to a stream's role.
 */
import { ProtocolError } from "../../core/errors.ts";
import { describe, isObj } from "./fields.ts";
import { HANDSHAKE, type HandshakeMessage, type Hello } from "./handshake.ts";
import {
  CLIENT_TO_SCHEDULER,
  type ClientRequestReplies,
  type ClientToScheduler,
  SCHEDULER_TO_CLIENT,
  type SchedulerToClient,
} from "./client_scheduler.ts";
import {
  SCHEDULER_TO_WORKER,
  type SchedulerRequestReplies,
  type SchedulerToWorker,
  WORKER_TO_SCHEDULER,
  type WorkerToScheduler,
} from "./worker_scheduler.ts";
import {
  PEER_TO_WORKER,
  type PeerMessage,
  type PeerRequestReplies,
  WORKER_TO_PEER,
} from "./worker_worker.ts";
import type { OpSet, SpecEntry } from "./spec.ts";

/** Any message dtask sends over a connection. */
export type Message =
  | HandshakeMessage
  | ClientToScheduler
  | SchedulerToClient
  | SchedulerToWorker
  | WorkerToScheduler
  | PeerMessage;

/** Each channel's direction tables (a message carried on two channels is in a table of each). */
export const CHANNELS = {
  handshake: { HANDSHAKE },
  "client-scheduler": { CLIENT_TO_SCHEDULER, SCHEDULER_TO_CLIENT },
  "worker-scheduler": { SCHEDULER_TO_WORKER, WORKER_TO_SCHEDULER },
  "worker-worker": { PEER_TO_WORKER, WORKER_TO_PEER },
} as const;

/** Each op's message. */
export type MessageByOp = { [O in Message["op"]]: Extract<Message, { op: O }> };

/** Each request op's reply (it carries the request's `id`). */
export type Replies = ClientRequestReplies & SchedulerRequestReplies & PeerRequestReplies;

/** Ops of the messages that expect a reply. */
export type RequestOp = keyof Replies;

/** A request with op `O`. */
export type RequestMessage<O extends RequestOp> = { op: O } & MessageByOp[O];

/**
 * Sends a request and resolves with its reply, typed by the request's op. `Sent` narrows the
 * requests allowed (e.g. ClientToScheduler).
 */
export type Requester<Sent extends Message = Message> = <O extends RequestOp & Sent["op"]>(
  msg: RequestMessage<O>,
) => Promise<Replies[O]>;

/** Every spec by op; an op declared twice with different specs is a bug caught at load. */
const SPECS: ReadonlyMap<string, SpecEntry> = (() => {
  const all = new Map<string, SpecEntry>();
  for (const channel of Object.values(CHANNELS)) {
    for (const table of Object.values(channel) as Record<string, SpecEntry>[]) {
      for (const [op, spec] of Object.entries(table)) {
        const seen = all.get(op);
        if (seen !== undefined && seen !== spec) throw new Error(`op ${op} is declared twice`);
        all.set(op, spec);
      }
    }
  }
  return all;
})();

/** Every op, for validating what arrives. */
export const OPS: ReadonlySet<string> = new Set(SPECS.keys());

/** Ops that answer a request carrying the same `id`. */
export const REPLY_OPS: ReadonlySet<string> = new Set(
  [...SPECS.values()].flatMap((s) => s.reply === null ? [] : [s.reply]),
);

/** Checks that a decoded value is a well-formed message dtask knows; throws ProtocolError. */
export function validateMessage(m: unknown): Message {
  if (!isObj(m)) {
    throw new ProtocolError(
      `a message must be an object, got ${Array.isArray(m) ? "an array" : describe(m)}`,
    );
  }
  const op = m.op;
  const spec = typeof op === "string" ? SPECS.get(op) : undefined;
  if (spec === undefined) throw new ProtocolError(`unknown op ${describe(op)}`);
  const bad = spec.check(m);
  if (bad !== null) {
    throw new ProtocolError(
      `malformed ${op as string} message: field ${bad} is missing or has a wrong type`,
    );
  }
  return m as unknown as Message;
}

/** Checks a hello (after its version matched); throws ProtocolError. */
export function validateHello(m: unknown): Hello {
  const msg = validateMessage(m);
  if (msg.op !== "hello") throw new ProtocolError(`the first message was ${msg.op}, not a hello`);
  return msg;
}

/**
 * Narrows a message to the union a stream's role allows (`ops` lists its ops); anything else
 * is a ProtocolError, which closes that one connection.
 */
export function expectOps<M extends Message>(msg: Message, ops: OpSet<M>, from: string): M {
  if (!ops.has(msg.op)) throw new ProtocolError(`${from} may not send ${msg.op}`);
  return msg as M;
}

/** Makes the compiler prove a switch over `op` is exhaustive. */
export function unreachable(x: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(x)}`);
}
