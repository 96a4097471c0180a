/**
 * Actor handles: what an actor's Future resolves to. A handle stands for an instance kept on
 * one worker; `handle.method(...args)` sends the call through the scheduler to that worker and
 * returns a Promise of its result. A handle travels as a handle (its key and class name), so a
 * task given one — or given the actor's Future — calls the same instance, through its own
 * client. Browser-safe.
 *
 * @module
 */
import { decodeValue, encodeValue } from "../comm/serialize.ts";
import { HANDLE, registerHandle } from "../comm/value_handles.ts";
import { ACTOR_HANDLE_TAG } from "../comm/protocol/actor_calls.ts";
import { fromEnvelope } from "../core/errors.ts";
import type { Client } from "./client.ts";
import { callsOf } from "./client_calls_of.ts";
import { Future } from "./future.ts";
import { resolveClient } from "./primitive_client.ts";
import { decodeFor, handleHolds, revivingClient } from "./reviving_client.ts";
import type { ActorHandle } from "./actor_types.ts";

export type { ActorHandle };

/** The handle's own method that calls a method of the actor. */
const CALL: unique symbol = Symbol("dtask.actorCall") as never;

/**
 * The class of actor handles (Dask's `Actor`): `handle instanceof Actor` holds. Handles are
 * made by awaiting an actor's Future, never with `new`. Any string property of a handle is a
 * method of the actor; `then` is not (so awaiting the Future yields the handle), and symbol
 * properties are the handle's own (so it travels, prints and is disposed of as a handle). The
 * actor lives while its Future or a handle on a client holds it: release the Future, and let
 * the handles go (or dispose of them, `using`), and its instance is freed.
 *
 * @example A counter kept on a worker, called from the client
 * ```ts
 * class Counter {
 *   n = 0;
 *   increment(by = 1) {
 *     return this.n += by;
 *   }
 * }
 * await using cluster = await LocalCluster.start({ nWorkers: 2 });
 * await using client = await Client.connect(cluster);
 * const counter = await client.with({ actor: true }).submit(Counter);
 * await counter.increment();
 * console.log(await counter.increment(10)); // 11
 * console.log(counter instanceof Actor); // true
 * ```
 */
export class Actor {
  readonly #key: string;
  readonly #className: string;
  #client: Client | undefined;
  /** The handle's hold on its key (a Future of it), while it lives or until disposed. */
  #hold: Future | undefined;

  private constructor(key: string, className: string, client: unknown) {
    this.#key = key;
    this.#className = className;
    // a handle decoded by a Client belongs to it and holds the actor alive while it lives (as
    // Dask's Actor holds its future); one decoded in a task finds its client when it calls
    if (client !== undefined) {
      this.#client = resolveClient(client, "an actor handle");
      [this.#hold] = callsOf(this.#client).adopt([key]);
      handleHolds();
    }
  }

  /** A handle of actor `key` (of class `className`), calling through `client` when given. */
  static handle<T = unknown>(key: string, className: string, client?: unknown): ActorHandle<T> {
    return new Proxy(new Actor(key, className, client), TRAPS) as unknown as ActorHandle<T>;
  }

  /** Travels as its key and class name. */
  [HANDLE](): [string, unknown] {
    return [ACTOR_HANDLE_TAG, { k: this.#key, c: this.#className }];
  }

  /**
   * Lets go of this handle's hold on the actor (`using` does it at the end of the scope; a
   * handle that is garbage-collected does it too). Once neither its Future nor any handle holds
   * the actor, its instance is freed on the worker.
   */
  [Symbol.dispose](): void {
    this.#hold?.release();
    this.#hold = undefined;
  }

  /** How `console.log` shows it. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Actor<${this.#className}> { key: ${JSON.stringify(this.#key)} }`;
  }

  /** Calls `method` of the actor with `args`; its result, or its error rethrown here. */
  async [CALL](method: string, args: unknown[]): Promise<unknown> {
    const client = this.#client ??= resolveClient(undefined, `actor ${this.#className}`);
    const a = encodeValue(args, {
      path: `arguments of ${this.#className}.${method}`,
      refKey: (v) => {
        if (v instanceof Future) {
          throw new TypeError("is a Future: await it and pass its value to an actor's method");
        }
        return undefined;
      },
      classInstances: "error",
    });
    const calls = callsOf(client);
    const reply = await calls.request({ op: "actor-call", id: 0, key: this.#key, method, a });
    if (reply.e !== undefined) throw fromEnvelope(reply.e);
    return decodeFor(client, () => decodeValue(reply.v!));
  }
}

const TRAPS: ProxyHandler<Actor> = {
  get(actor, prop) {
    if (typeof prop === "symbol") {
      const v = Reflect.get(actor, prop, actor);
      return typeof v === "function" ? v.bind(actor) : v;
    }
    if (prop === "then") return undefined;
    if (prop === "constructor") return Actor;
    return (...args: unknown[]) => actor[CALL](prop, args);
  },
  set(_actor, prop) {
    throw new TypeError(
      `cannot set ${String(prop)} on an actor handle: call a method of the actor to change it`,
    );
  },
};

registerHandle(ACTOR_HANDLE_TAG, (data) => {
  const d = data as { k?: unknown; c?: unknown } | null;
  if (typeof d?.k !== "string" || typeof d.c !== "string") {
    throw new TypeError("an actor handle travels as { k: key, c: className }");
  }
  return Actor.handle(d.k, d.c, revivingClient());
});
