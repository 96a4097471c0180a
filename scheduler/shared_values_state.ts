/**
 * The state machine of the scheduler's shared values — queues, variables, events — and the
 * keys they hold: pure (no I/O, no timers, no await). Each stimulus (a request, a client's
 * confirmation that it took keys, a deadline, a dropped request, a client gone) returns the
 * effects the shell must carry out, in order (shared_effects.ts).
 *
 * @module
 */
import type { SharedValueRequest } from "../comm/protocol.ts";
import { type Asker, type SharedEffect, SharedOutbox } from "./shared_effects.ts";
import { SharedHolds } from "./shared_holds.ts";
import { QueueState } from "./queue_state.ts";
import { VariableState } from "./variable_state.ts";
import { EventState } from "./event_state.ts";

/** A request on a shared value (every one but the confirmation of keys taken). */
export type SharedValueAsk = Exclude<SharedValueRequest, { op: "shared-keys-taken" }>;

/** Queues, variables and events, and the keys they hold. */
export class SharedValuesState {
  readonly #out = new SharedOutbox();
  readonly holds: SharedHolds = new SharedHolds(this.#out);
  readonly queues: QueueState = new QueueState(this.#out, this.holds);
  readonly variables: VariableState = new VariableState(this.#out, this.holds);
  readonly events: EventState = new EventState(this.#out);

  /** A client's request; `a.wait` names it in the effects (its reply, its deadline). */
  request(a: Asker, m: SharedValueAsk): SharedEffect[] {
    switch (m.op) {
      case "queue-put":
        this.queues.put(a, m.name, m.maxsize, { v: m.v, keys: m.keys }, m.timeout);
        break;
      case "queue-get":
        this.queues.get(a, m.name, m.maxsize, m.timeout, m.batch);
        break;
      case "queue-size":
        this.queues.size(a, m.name, m.maxsize);
        break;
      case "variable-set":
        this.variables.set(a, m.name, { v: m.v, keys: m.keys });
        break;
      case "variable-get":
        this.variables.get(a, m.name, m.timeout);
        break;
      case "variable-delete":
        this.variables.delete(a, m.name);
        break;
      case "event-set":
        this.events.set(a, m.name);
        break;
      case "event-clear":
        this.events.clear(a, m.name);
        break;
      case "event-is-set":
        this.events.isSet(a, m.name);
        break;
      case "event-wait":
        this.events.wait(a, m.name, m.timeout);
        break;
      default: {
        const never: never = m;
        throw new Error(`unhandled shared-value request ${JSON.stringify(never)}`);
      }
    }
    return this.#out.take();
  }

  /** `client` wants these keys it took itself now: their hand-over holds end. */
  keysTaken(client: string, keys: string[]): SharedEffect[] {
    this.holds.taken(client, keys);
    return this.#out.take();
  }

  /** Whether request `wait` is waiting (not answered yet). */
  isWaiting(wait: number): boolean {
    return this.queues.has(wait) || this.variables.has(wait) || this.events.has(wait);
  }

  /** Request `wait`'s deadline passed. */
  expire(wait: number): SharedEffect[] {
    this.queues.expire(wait);
    this.variables.expire(wait);
    this.events.expire(wait);
    return this.#out.take();
  }

  /** These waiting requests are dropped unanswered (their connection closed). */
  abandon(waits: Iterable<number>): SharedEffect[] {
    for (const w of waits) {
      this.queues.abandon(w);
      this.variables.abandon(w);
      this.events.abandon(w);
    }
    return this.#out.take();
  }

  /** `client` left for good: its waits are dropped and what was handed to it is let go. */
  clientGone(client: string): SharedEffect[] {
    this.queues.clientGone(client);
    this.variables.clientGone(client);
    this.events.clientGone(client);
    this.holds.clientGone(client);
    return this.#out.take();
  }

  /** The scheduler is closing: all state goes, nothing is answered. */
  close(): void {
    this.queues.close();
    this.variables.close();
    this.events.close();
    this.holds.clear();
    this.#out.take();
  }
}
