/**
 * The shell around the shared values' state machine (shared_values_state.ts): it takes the
 * clients' requests on queues, variables and events, sends the replies on the connection each
 * request came on, arms and cancels their deadlines (scheduler/deadlines.ts), and makes the
 * scheduler keep the keys the machine holds, wanted by one pseudo-client. A request whose
 * connection closes while it waits is dropped (its client is told nothing: its request failed
 * with the connection); a client that leaves for good drops its waits and its hand-overs.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import type { SharedValueRequest } from "../comm/protocol.ts";
import { CancelledError, toEnvelope } from "../core/errors.ts";
import type { Deadlines } from "./deadlines.ts";
import type { ClusterListener } from "./cluster_listeners.ts";
import type { SchedulerState } from "./state.ts";
import type { SharedEffect, SharedReply } from "./shared_effects.ts";
import { type SharedValueAsk, SharedValuesState } from "./shared_values_state.ts";

/** The pseudo-client that wants the keys queues and variables hold. */
export const SHARED_VALUES_HOLDER = "queues-and-variables";

/** What the shell needs from the scheduler actor. */
export interface SharedValuesHost {
  readonly state: SchedulerState;
  readonly deadlines: Deadlines;
}

/** A request being answered: where its reply goes, and its deadline. */
interface Ask {
  conn: Connection;
  id: number;
  op: SharedValueAsk["op"];
  deadline?: number;
}

/** The scheduler's queues, variables and events. */
export class SharedValues {
  /** The state machine. */
  readonly machine: SharedValuesState = new SharedValuesState();
  readonly #asks = new Map<number, Ask>();
  /** The waiting requests of each connection, dropped when it closes. */
  readonly #byConn = new Map<Connection, Set<number>>();
  #next = 1;

  constructor(private readonly host: SharedValuesHost) {}

  /** What the scheduler tells this extension: a client gone, the scheduler closing. */
  readonly listener: ClusterListener = {
    connectionClosed: (_client, conn) => {
      const waits = this.#byConn.get(conn);
      this.#byConn.delete(conn);
      if (waits?.size) this.#apply(this.machine.abandon([...waits]));
    },
    clientGone: (id) => this.#apply(this.machine.clientGone(id)),
    close: () => {
      this.machine.close();
      this.#asks.clear();
      this.#byConn.clear();
    },
  };

  /** A request of client `client` on `conn`. */
  handle(client: string, m: SharedValueRequest, conn: Connection): void {
    if (m.op === "shared-keys-taken") return this.#apply(this.machine.keysTaken(client, m.keys));
    if (m.op === "queue-put" || m.op === "variable-set") {
      const what = m.op === "queue-put" ? `Queue ${q(m.name)}.put` : `Variable ${q(m.name)}.set`;
      const error = this.#unusable(m.keys, what);
      if (error) return conn.send({ op: "ack", id: m.id, e: toEnvelope(error) });
    }
    const wait = this.#next++;
    this.#asks.set(wait, { conn, id: m.id, op: m.op });
    this.#apply(this.machine.request({ wait, client }, m));
    if (this.#asks.has(wait)) this.#watch(conn, wait);
    if (m.op === "queue-put" || m.op === "variable-set") this.#rewant(m.keys);
  }

  /**
   * Wants again the keys held that the pseudo-client no longer wants: a restart or a forced
   * cancel dropped every client's wants, and a key submitted again after it is counted as held
   * already (the machine asks to want a key only when its first hold comes).
   */
  #rewant(keys: string[]): void {
    const state = this.host.state;
    const lost = keys.filter((k) =>
      this.machine.holds.count(k) > 0 && !state.tasks.get(k)?.hasWant(SHARED_VALUES_HOLDER)
    );
    if (lost.length) this.#apply([{ kind: "want", keys: lost }]);
  }

  /** Why a value holding these keys cannot be kept: a key is gone or erred. */
  #unusable(keys: string[], what: string): Error | undefined {
    for (const k of keys) {
      const ts = this.host.state.tasks.get(k);
      if (ts === undefined) {
        return new CancelledError(
          `${what}: the Future ${k} was cancelled or released, the scheduler no longer knows ` +
            `it: submit the task again and pass the new Future`,
        );
      }
      if (ts.state === "erred") {
        return new TypeError(
          `${what}: the Future ${k} erred, there is no value to keep: pass a Future that is ` +
            `pending or finished (look at the error with \`await future\`)`,
        );
      }
    }
    return undefined;
  }

  #apply(effects: SharedEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case "reply":
          this.#reply(e.wait, e.reply);
          break;
        case "arm": {
          const ask = this.#asks.get(e.wait);
          const wait = e.wait;
          if (ask) ask.deadline = this.host.deadlines.after(e.ms, () => this.#expire(wait));
          break;
        }
        case "disarm":
          this.#forget(e.wait);
          break;
        case "want": {
          const state = this.host.state;
          if (!state.clients.has(SHARED_VALUES_HOLDER)) state.addClient(SHARED_VALUES_HOLDER);
          state.updateGraph(SHARED_VALUES_HOLDER, {
            op: "update-graph",
            tasks: [],
            wanted: e.keys,
          });
          break;
        }
        case "unwant":
          this.host.state.releaseKeys(SHARED_VALUES_HOLDER, e.keys);
          break;
        default: {
          const never: never = e;
          throw new Error(`unhandled shared-value effect ${JSON.stringify(never)}`);
        }
      }
    }
  }

  #expire(wait: number): void {
    this.#apply(this.machine.expire(wait));
  }

  /** Sends request `wait` its reply, in the message its op is answered by. */
  #reply(wait: number, r: SharedReply): void {
    const ask = this.#forget(wait);
    if (!ask) return;
    const { conn, id } = ask;
    const e = "error" in r ? toEnvelope(r.error) : undefined;
    switch (ask.op) {
      case "queue-get":
      case "variable-get": {
        const items = "items" in r ? r.items : [];
        const vs = items.map((i) => i.v), keys = items.map((i) => i.keys);
        return conn.send({ op: "shared-items", id, vs, keys, e });
      }
      case "queue-size":
        return conn.send({ op: "shared-count", id, n: "n" in r ? r.n : 0, e });
      case "event-is-set":
      case "event-wait":
        return conn.send({ op: "shared-flag", id, flag: "flag" in r && r.flag });
      default:
        return conn.send({ op: "ack", id, e });
    }
  }

  /** Request `wait` is no longer waiting: its deadline and its record go. */
  #forget(wait: number): Ask | undefined {
    const ask = this.#asks.get(wait);
    if (!ask) return undefined;
    this.#asks.delete(wait);
    if (ask.deadline !== undefined) this.host.deadlines.cancel(ask.deadline);
    this.#byConn.get(ask.conn)?.delete(wait);
    return ask;
  }

  /** Request `wait` waits: it is dropped if its connection closes first (`connectionClosed`). */
  #watch(conn: Connection, wait: number): void {
    let waits = this.#byConn.get(conn);
    if (!waits) this.#byConn.set(conn, waits = new Set());
    waits.add(wait);
  }
}

function q(name: string): string {
  return JSON.stringify(name);
}
