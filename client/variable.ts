/**
 * `Variable`: a single-value register on the scheduler, shared by every client and task that
 * names it (Dask's `distributed.Variable`). Browser-safe.
 *
 * @module
 */
import { fromEnvelope } from "../core/errors.ts";
import { HANDLE, registerHandle } from "../comm/value_handles.ts";
import type { Client } from "./client.ts";
import { callsOf } from "./client_calls_of.ts";
import type { Future } from "./future.ts";
import { resolveClient } from "./primitive_client.ts";
import { encodeItem, takeItems } from "./shared_items.ts";
import { waiting } from "./primitive_client.ts";
import { checkOptions, nameOption, timeoutOption } from "./primitive_options.ts";

/** Options of a {@link Variable}. */
export interface VariableOptions {
  /** The client it talks through (inside a task: the task's own client; else the default). */
  client?: Client;
}

/**
 * A named value kept by the scheduler: every client and task that makes a `Variable` of the
 * same name shares it. `get` waits until it is set (up to `timeout` ms, then rejects with a
 * `TimeoutError`). Set to a Future, it keeps the Future's data alive on the cluster until it is
 * set again or deleted — also after the client that set it closed — and `get` gives the value.
 * A Variable passed to a task arrives as a Variable of the same name; inside a task `client`
 * may be left out, and a task waiting in `get` gives its thread slot back meanwhile.
 *
 * @example Hand a result from one client to another
 * ```ts
 * await using client = await Client.connect();
 * const x = new Variable<number>("x", { client });
 * await x.set(client.submit((a: number) => a + 1, 10));
 * console.log(await x.get()); // 11
 * await x.delete(); // the scheduler lets the result go
 * ```
 */
export class Variable<T = unknown> {
  /** Its name, shared by every Variable that names it. */
  readonly name: string;
  readonly #client: Client | undefined;

  /** A handle on the variable `name` (a unique name when left out). */
  constructor(name?: string, options: VariableOptions = {}) {
    const o = checkOptions("Variable", options, ["client"]);
    this.name = nameOption("Variable", name, "variable");
    if (o.client !== undefined) resolveClient(o.client, "Variable"); // a wrong type fails here
    this.#client = o.client as Client | undefined;
  }

  /**
   * Sets the value (a Future: its data is kept until the variable is set again or deleted).
   * A Future that was cancelled or erred is refused: there is no value to keep.
   */
  async set(value: T | Future<T>): Promise<void> {
    const client = resolveClient(this.#client, "Variable");
    const what = `Variable ${JSON.stringify(this.name)}.set`;
    const { v, keys } = await encodeItem(client, value, what);
    const r = await callsOf(client).request({
      op: "variable-set",
      id: 0,
      name: this.name,
      v,
      keys,
    });
    if (r.e) throw fromEnvelope(r.e);
  }

  /**
   * The value (a Future's value when set to one), waiting up to `timeout` ms until it is set;
   * rejects with a TimeoutError when it was not.
   */
  async get(options: { timeout?: number } = {}): Promise<T> {
    const o = checkOptions("Variable.get", options, ["timeout"]);
    const timeout = timeoutOption("Variable.get", o.timeout);
    const client = resolveClient(this.#client, "Variable");
    const msg = { op: "variable-get", id: 0, name: this.name, timeout } as const;
    const calls = callsOf(client);
    const r = await waiting(timeout !== 0, () => calls.request(msg));
    return (await takeItems(client, r))[0] as T;
  }

  /** Unsets it: its value (a Future's data) is let go. */
  async delete(): Promise<void> {
    const client = resolveClient(this.#client, "Variable");
    const r = await callsOf(client).request({ op: "variable-delete", id: 0, name: this.name });
    if (r.e) throw fromEnvelope(r.e);
  }

  /** Travels into tasks and results as its name. */
  [HANDLE](): [string, unknown] {
    return ["variable", this.name];
  }
}

registerHandle("variable", (name) => new Variable(name as string));
