/**
 * Actor method calls relayed by the scheduler, as a pure state machine: a client's call goes to
 * the worker holding the actor's instance (numbered, and kept in flight per worker until its
 * result comes back), waits while the actor is being made or re-created, or fails at once. What
 * happens to an actor (actor_records.ts) and to workers and clients moves the calls on: a
 * re-creation fails the calls in flight on the old instance, a lost worker or an erred key
 * fails them all. Stimuli in, effects out as data (messages for workers and clients); no I/O,
 * no timers.
 *
 * @module
 */
import type {
  ActorCall,
  ActorCallReply,
  ActorCallResult,
  RelayedActorCall,
} from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";
import { ActorLostError, type ErrorEnvelope } from "../core/errors.ts";
import type { ActorEvent, ActorStatus } from "./actor_records.ts";

/** What the machine asks to be sent. */
export type ActorCallEffect =
  /** Relay these calls to `worker`, in this order. */
  | { to: "worker"; worker: string; calls: RelayedActorCall[] }
  /** Answer a client's call. */
  | { to: "client"; client: string; reply: ActorCallReply };

/** A client's call: who asked (client and request id), and what. */
interface Call {
  client: string;
  id: number;
  key: string;
  method: string;
  a: Payload;
}

/** A call relayed to a worker. */
interface InFlight extends Call {
  worker: string;
}

/** The calls waiting for their actors, and those in flight on workers. */
export class ActorCallState {
  #next = 1;
  /** Calls in flight, by number. */
  readonly #inflight = new Map<number, InFlight>();
  /** Numbers of the calls in flight, per worker. */
  readonly #byWorker = new Map<string, Set<number>>();
  /** Calls waiting for their actor to be made, in arrival order, by key. */
  readonly #waiting = new Map<string, Call[]>();

  /** Calls in flight on `worker` (all workers when absent). */
  inFlight(worker?: string): number {
    return worker === undefined ? this.#inflight.size : this.#byWorker.get(worker)?.size ?? 0;
  }

  /** Calls waiting for actor `key` to be made. */
  waiting(key: string): number {
    return this.#waiting.get(key)?.length ?? 0;
  }

  /** Client `client` calls a method; `status` is where its actor is now (the records'). */
  call(client: string, m: ActorCall, status: ActorStatus): ActorCallEffect[] {
    const call: Call = { client, id: m.id, key: m.key, method: m.method, a: m.a };
    switch (status.kind) {
      case "ready":
        return [this.#relay(status.worker, [call])];
      case "pending": {
        const list = this.#waiting.get(call.key);
        if (list) list.push(call);
        else this.#waiting.set(call.key, [call]);
        return [];
      }
      case "failed":
        return [fail(call, status.error)];
      case "gone":
        return [fail(call, goneError(call.key))];
    }
  }

  /** Worker `worker` answered calls; results it has no call for (stale) are dropped. */
  results(worker: string, results: ActorCallResult[]): ActorCallEffect[] {
    const out: ActorCallEffect[] = [];
    for (const r of results) {
      const c = this.#inflight.get(r.i);
      if (c === undefined || c.worker !== worker) continue;
      this.#land(r.i, c);
      const reply: ActorCallReply = { op: "actor-result", id: c.id };
      if (r.v !== undefined) reply.v = r.v;
      else reply.e = r.e;
      out.push({ to: "client", client: c.client, reply });
    }
    return out;
  }

  /** Something happened to an actor (actor_records.ts). */
  actorEvent(e: ActorEvent): ActorCallEffect[] {
    switch (e.kind) {
      case "ready": {
        const waiting = this.#waiting.get(e.key);
        if (!waiting) return [];
        this.#waiting.delete(e.key);
        return [this.#relay(e.worker, waiting)];
      }
      case "restarting":
        return this.#failInFlight(e.key, restartedError(e.key, e.worker));
      case "failed":
        return [...this.#failInFlight(e.key, e.error), ...this.#failWaiting(e.key, e.error)];
      case "gone":
        return this.#failWaiting(e.key, goneError(e.key));
    }
  }

  /** Worker `address` left: the calls still in flight on it fail. */
  workerRemoved(address: string): ActorCallEffect[] {
    const numbers = this.#byWorker.get(address);
    if (!numbers) return [];
    const out: ActorCallEffect[] = [];
    for (const i of [...numbers]) {
      const c = this.#inflight.get(i)!;
      this.#land(i, c);
      out.push(fail(c, lostError(c.key, address)));
    }
    return out;
  }

  /** Client `id` left for good: its waiting calls are dropped, its results go nowhere. */
  clientGone(id: string): ActorCallEffect[] {
    for (const [key, list] of this.#waiting) {
      const kept = list.filter((c) => c.client !== id);
      if (kept.length === list.length) continue;
      if (kept.length) this.#waiting.set(key, kept);
      else this.#waiting.delete(key);
    }
    for (const [i, c] of this.#inflight) if (c.client === id) this.#land(i, c);
    return [];
  }

  /** Numbers the calls and puts them in flight on `worker`. */
  #relay(worker: string, calls: Call[]): ActorCallEffect {
    let numbers = this.#byWorker.get(worker);
    if (!numbers) this.#byWorker.set(worker, numbers = new Set());
    const relayed: RelayedActorCall[] = [];
    for (const c of calls) {
      const i = this.#next++;
      this.#inflight.set(i, { ...c, worker });
      numbers.add(i);
      relayed.push({ i, k: c.key, m: c.method, a: c.a });
    }
    return { to: "worker", worker, calls: relayed };
  }

  /** Call `i` is no longer in flight. */
  #land(i: number, c: InFlight): void {
    this.#inflight.delete(i);
    const numbers = this.#byWorker.get(c.worker)!;
    numbers.delete(i);
    if (numbers.size === 0) this.#byWorker.delete(c.worker);
  }

  #failInFlight(key: string, error: ErrorEnvelope): ActorCallEffect[] {
    const out: ActorCallEffect[] = [];
    for (const [i, c] of this.#inflight) {
      if (c.key !== key) continue;
      this.#land(i, c);
      out.push(fail(c, error));
    }
    return out;
  }

  #failWaiting(key: string, error: ErrorEnvelope): ActorCallEffect[] {
    const waiting = this.#waiting.get(key);
    if (!waiting) return [];
    this.#waiting.delete(key);
    return waiting.map((c) => fail(c, error));
  }
}

/** The answer that call `c` failed with `e`. */
function fail(c: Call, e: ErrorEnvelope): ActorCallEffect {
  return { to: "client", client: c.client, reply: { op: "actor-result", id: c.id, e } };
}

/** An ActorLostError as an envelope (no stack: the message says it all). */
function lost(message: string): ErrorEnvelope {
  return { name: ActorLostError.name, message };
}

/** A call in flight on an instance that is being re-created elsewhere. */
export function restartedError(key: string, worker: string): ErrorEnvelope {
  return lost(
    `actor ${key} was restarted on another worker because the worker holding it (${worker}) ` +
      `was lost: its state was lost, and this call with it; calls made from now on go to ` +
      `the new instance`,
  );
}

/** A call in flight on a worker that left. */
export function lostError(key: string, worker: string): ErrorEnvelope {
  return lost(`the worker holding this actor was lost: actor ${key} lived on ${worker}`);
}

/** A call on an actor the scheduler does not hold. */
export function goneError(key: string): ErrorEnvelope {
  return lost(
    `no actor ${key} is held: it was released (its Future and its handles were dropped) or ` +
      `never made`,
  );
}
