/**
 * `Event`: a flag on the scheduler that tasks and clients wait for, shared by every client and
 * task that names it (Dask's `distributed.Event`). Browser-safe.
 *
 * @module
 */
import { fromEnvelope } from "../core/errors.ts";
import { HANDLE, registerHandle } from "../comm/value_handles.ts";
import type { Client } from "./client.ts";
import { callsOf } from "./client_calls_of.ts";
import { resolveClient } from "./primitive_client.ts";
import { checkOptions, nameOption, timeoutOption } from "./primitive_options.ts";
import { waiting } from "./primitive_client.ts";

/** Options of an {@link Event}. */
export interface EventOptions {
  /** The client it talks through (inside a task: the task's own client; else the default). */
  client?: Client;
}

/**
 * A named flag kept by the scheduler: every client and task that makes an `Event` of the same
 * name shares it. `wait` resolves to true once it is set, or to false when its `timeout` (ms)
 * passes first; `clear` unsets it. The scheduler keeps nothing for an event that is cleared
 * and has no waiters. An Event passed to a task arrives as an Event of the same name; inside a
 * task `client` may be left out (and `Event` names this class, not the DOM's), and a task
 * waiting in `wait` gives its thread slot back meanwhile.
 *
 * @example Tasks wait for a go
 * ```ts
 * await using client = await Client.connect();
 * const go = new Event("go", { client });
 * const waiting = client.submit(() => new Event("go").wait());
 * await go.set();
 * console.log(await waiting); // true
 * ```
 */
export class Event {
  /** Its name, shared by every Event that names it. */
  readonly name: string;
  readonly #client: Client | undefined;

  /** A handle on the event `name` (a unique name when left out). */
  constructor(name?: string, options: EventOptions = {}) {
    const o = checkOptions("Event", options, ["client"]);
    this.name = nameOption("Event", name, "event");
    if (o.client !== undefined) resolveClient(o.client, "Event"); // a wrong type fails here
    this.#client = o.client as Client | undefined;
  }

  /** Sets it: every waiter is released (with true). */
  async set(): Promise<void> {
    await this.#ack("event-set");
  }

  /** Clears it: waits wait again. */
  async clear(): Promise<void> {
    await this.#ack("event-clear");
  }

  /** Whether it is set. */
  async isSet(): Promise<boolean> {
    const client = resolveClient(this.#client, "Event");
    const r = await callsOf(client).request({ op: "event-is-set", id: 0, name: this.name });
    return r.flag;
  }

  /** Waits until it is set (true), or until `timeout` ms passed (false); 0 looks once. */
  async wait(options: { timeout?: number } = {}): Promise<boolean> {
    const o = checkOptions("Event.wait", options, ["timeout"]);
    const timeout = timeoutOption("Event.wait", o.timeout);
    const client = resolveClient(this.#client, "Event");
    const msg = { op: "event-wait", id: 0, name: this.name, timeout } as const;
    const calls = callsOf(client);
    const r = await waiting(timeout !== 0, () => calls.request(msg));
    return r.flag;
  }

  async #ack(op: "event-set" | "event-clear"): Promise<void> {
    const client = resolveClient(this.#client, "Event");
    const r = await callsOf(client).request({ op, id: 0, name: this.name });
    if (r.e) throw fromEnvelope(r.e);
  }

  /** Travels into tasks and results as its name. */
  [HANDLE](): [string, unknown] {
    return ["event", this.name];
  }
}

registerHandle("event", (name) => new Event(name as string));
