/**
 * Client sessions: each connected client's connection. A client that loses its connection
 * keeps what it wants for a grace period, to reconnect and resume under the same id; one that
 * says goodbye is released at once. A client that stops reading is marked stalled, so that its
 * results stay on the workers instead of piling up here (backpressure). Grace periods and
 * queue changes end as stimuli posted back to the actor.
 *
 * @module
 */
import type { TimerRelease } from "../comm/unref.ts";
import type { Connection } from "../comm/connection.ts";
import type { SchedulerToClient } from "../comm/protocol.ts";
import type { ClusterListeners } from "./cluster_listeners.ts";
import type { ClusterCalls } from "./cluster_calls.ts";
import type { SchedulerState } from "./state.ts";
import type { ClientClosed, ClientMessage, ClientStalled, Post } from "./stimulus.ts";
import { CLIENT_GRACE } from "../comm/timeouts.ts";
import { feedMessages } from "../actor/mailbox.ts";

/**
 * Most bytes of results queued for one client. Past half of it, workers stop sending results
 * along for that client; past all of it, results in flight are not forwarded either. They stay
 * on their workers and the client fetches them from there when it reads again, so a client that
 * stops reading cannot make the scheduler hold every result.
 */
export const CLIENT_QUEUE_BYTES = 32 * 1024 * 1024;

/** How long a dropped client keeps its wanted keys by default (ms). */
export const DEFAULT_CLIENT_GRACE = CLIENT_GRACE;

/** What client sessions need from the scheduler actor. */
export interface ClientSessionsHost {
  readonly state: SchedulerState;
  readonly calls: ClusterCalls;
  /** The extensions told when a client leaves for good. */
  readonly listeners: ClusterListeners;
  /** How long a dropped client keeps its wanted keys (ms; 0: released at once). */
  readonly grace: number;
  /** Whether the scheduler is closing. */
  readonly closing: boolean;
  post: Post;
  /** How its grace timers hold the program open. */
  readonly release: TimerRelease;
  /** Runs a state change no peer asked for; false when it threw (logged, the scheduler fails). */
  guard(what: string, f: () => void): boolean;
  /** An informational line for the scheduler's log (shown when it is verbose, as the CLI is). */
  note(line: string): void;
}

/** The connected clients, and the dropped ones within their grace period. */
export class ClientSessions {
  /** Live connections by client id. */
  readonly conns: Map<string, Connection> = new Map();
  /** Clients that lost their connection, kept until their grace period ends. */
  readonly #dropped = new Map<string, ReturnType<typeof setTimeout>>();
  /** Clients that said goodbye (close-client): released at once. */
  readonly #leaving = new Set<string>();
  /** Clients made inside a task (getClient()): the address of the worker each runs in. */
  readonly #inWorker = new Map<string, string>();

  constructor(readonly host: ClientSessionsHost) {}

  /** The live connection of client `id`. */
  connection(id: string): Connection | undefined {
    return this.conns.get(id);
  }

  /** Whether client `id` lost its connection and may still reconnect. */
  isDropped(id: string): boolean {
    return this.#dropped.has(id);
  }

  /** A message for client `id` (the state machine's outbox): values held back past the bound. */
  send(id: string, msg: SchedulerToClient): void {
    const conn = this.conns.get(id);
    if (conn === undefined) return;
    if (
      msg.op === "key-in-memory" && msg.v !== undefined &&
      conn.queuedBytes + msg.v.nbytes > CLIENT_QUEUE_BYTES
    ) {
      msg = { op: "key-in-memory", k: msg.k, w: msg.w };
    }
    conn.send(msg);
  }

  /** The clients made inside tasks on the worker at `address` (their hello said so). */
  inWorker(address: string): string[] {
    const ids: string[] = [];
    for (const [id, w] of this.#inWorker) if (w === address) ids.push(id);
    return ids;
  }

  /**
   * A client's handshake succeeded (or it reconnected): its messages start flowing. `inWorker`:
   * the worker it runs in, for a client made inside a task.
   */
  add(id: string, conn: Connection, inWorker?: string): void {
    const host = this.host;
    if (inWorker !== undefined) this.#inWorker.set(id, inWorker);
    const resumed = this.#dropped.has(id);
    clearTimeout(this.#dropped.get(id));
    this.#dropped.delete(id);
    this.conns.set(id, conn);
    host.state.addClient(id);
    conn.watchQueue(CLIENT_QUEUE_BYTES / 2, (stalled) => {
      host.post({ kind: "client-stalled", client: id, conn, stalled });
    });
    if (!resumed) host.calls.clientAdded(id);
    host.note(resumed ? `Client ${id} reconnected` : `Receive client connection: ${id}`);
    conn.closed.then(() => host.post({ kind: "client-closed", client: id, conn }));
    const s: ClientMessage = { kind: "client-message", client: id, conn, msg: null };
    feedMessages(conn, s, host.post);
  }

  /** A client's queue passed its bound, or drained. */
  stalled(s: ClientStalled): void {
    if (this.conns.get(s.client) !== s.conn) return;
    this.host.guard(
      `marking client ${s.client} stalled`,
      () => this.host.state.clientStalled(s.client, s.stalled),
    );
  }

  /** Client `id` said goodbye: its connection closes and it is released at once. */
  leave(id: string, conn: Connection): void {
    this.#leaving.add(id);
    conn.close("client closed");
  }

  /** A client's connection closed: it is released now, or after its grace period. */
  closed(s: ClientClosed): void {
    const host = this.host, id = s.client;
    host.guard(`closing a connection of client ${id}`, () => {
      host.listeners.connectionClosed(id, s.conn);
    });
    if (this.conns.get(id) !== s.conn) return;
    this.conns.delete(id);
    if (this.#leaving.has(id) || host.closing || host.grace <= 0) return this.#gone(id);
    host.note(
      `Lost the connection to client ${id}; keeping what it wants for ${host.grace / 1000} s ` +
        `for it to reconnect`,
    );
    const timer = setTimeout(() => host.post({ kind: "grace-ended", client: id }), host.grace);
    host.release(timer);
    this.#dropped.set(id, timer);
  }

  /** A dropped client's grace period ended. */
  graceEnded(id: string): void {
    if (this.#dropped.has(id)) this.#gone(id);
  }

  #gone(id: string): void {
    this.#dropped.delete(id);
    this.#leaving.delete(id);
    this.#inWorker.delete(id);
    this.host.note(`Remove client ${id}`);
    this.host.calls.clientGone(id);
    this.host.guard(`removing client ${id}`, () => {
      this.host.listeners.clientGone(id);
      this.host.state.removeClient(id);
    });
  }

  /** The scheduler is closing: grace periods end without releasing anyone. */
  closing(): void {
    for (const t of this.#dropped.values()) clearTimeout(t);
    this.#dropped.clear();
  }
}
