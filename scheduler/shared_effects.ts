/**
 * What the state machines of queues, variables and events (queue_state.ts, variable_state.ts,
 * event_state.ts) say the shell around them must do, as data: answer a request, arm or disarm
 * its deadline, start or stop holding keys on the scheduler. Pure: no I/O here.
 *
 * @module
 */
import type { Payload } from "../comm/serialize.ts";

/** A value in a queue or a variable: encoded, with the keys of the Futures inside. */
export interface SharedItem {
  v: Payload;
  keys: string[];
}

/** A request that may wait: the number the shell gave it, and the client that sent it. */
export interface Asker {
  wait: number;
  client: string;
}

/** The answer to one request. */
export type SharedReply =
  | { ok: true }
  | { items: SharedItem[] }
  | { n: number }
  | { flag: boolean }
  | { error: Error };

/** One thing the shell must do. */
export type SharedEffect =
  /** Answer request `wait` (its last effect: it no longer waits). */
  | { kind: "reply"; wait: number; reply: SharedReply }
  /** Call `expire(wait)` after `ms` unless the request was answered first. */
  | { kind: "arm"; wait: number; ms: number }
  /** Request `wait` no longer waits: its deadline goes. */
  | { kind: "disarm"; wait: number }
  /** The scheduler must keep these keys (no one held them). */
  | { kind: "want"; keys: string[] }
  /** The scheduler may let these keys go (nothing holds them any more). */
  | { kind: "unwant"; keys: string[] };

/** Where the machines write their effects, in order. */
export class SharedOutbox {
  effects: SharedEffect[] = [];

  /** The effects so far, and a fresh list for the next stimulus. */
  take(): SharedEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  reply(wait: number, reply: SharedReply): void {
    this.effects.push({ kind: "reply", wait, reply });
  }

  /** Arms the deadline of a request that waits with a finite timeout. */
  arm(wait: number, timeout: number | undefined): void {
    if (timeout !== undefined && Number.isFinite(timeout)) {
      this.effects.push({ kind: "arm", wait, ms: timeout });
    }
  }

  disarm(wait: number): void {
    this.effects.push({ kind: "disarm", wait });
  }
}
