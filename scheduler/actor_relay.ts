/**
 * The shell around the relayed actor calls (actor_calls.ts): it reads where each call's actor
 * is from the scheduler's records, feeds the machine the calls, the workers' results, the
 * actors' events and the departures of workers and clients, and sends what it asks: calls to
 * workers, answers to clients. Registered with the scheduler's extensions.
 *
 * @module
 */
import type { ActorCall, ActorResults, SchedulerToClient } from "../comm/protocol.ts";
import type { Connection } from "../comm/connection.ts";
import type { ActorEvent, ActorStatus } from "./actor_records.ts";
import { type ActorCallEffect, ActorCallState } from "./actor_calls.ts";
import type { ClusterListener } from "./cluster_listeners.ts";

/** What the relay needs from the scheduler actor. */
export interface ActorRelayHost {
  /** Where a call on actor `key` goes now (the state machine's records). */
  actorStatus(key: string): ActorStatus;
  /** The connection of the worker at `address`, if it is connected. */
  worker(address: string): Connection | undefined;
  /** Sends a message to client `id` (nothing if it is gone). */
  client(id: string, msg: SchedulerToClient): void;
}

/** Relays actor calls between clients and workers. */
export class ActorRelay implements ClusterListener {
  readonly #calls = new ActorCallState();

  constructor(readonly host: ActorRelayHost) {}

  /** A client's `actor-call`. */
  call(client: string, m: ActorCall): void {
    this.#send(this.#calls.call(client, m, this.host.actorStatus(m.key)));
  }

  /** A worker's `actor-results`. */
  results(worker: string, m: ActorResults): void {
    this.#send(this.#calls.results(worker, m.results));
  }

  /** The state machine's news of an actor. */
  actorEvent(e: ActorEvent): void {
    this.#send(this.#calls.actorEvent(e));
  }

  workerRemoved(address: string): void {
    this.#send(this.#calls.workerRemoved(address));
  }

  clientGone(id: string): void {
    this.#send(this.#calls.clientGone(id));
  }

  #send(effects: ActorCallEffect[]): void {
    for (const e of effects) {
      if (e.to === "client") this.host.client(e.client, e.reply);
      else this.host.worker(e.worker)?.send({ op: "actor-calls", calls: e.calls });
    }
  }
}
