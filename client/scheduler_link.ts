/**
 * A Client's connection to its scheduler: the stream it reads, a new connection when that one
 * drops (until the reconnect timeout passes), failing what is pending when it cannot, the
 * goodbye on close, and the one way to send a message after what the client queued. What its
 * connections do (a message, opening, closing) is posted to the Client's `receive` and handled
 * in `handle`, never in a continuation. Browser-safe (no Deno).
 *
 * @module
 */
import { Connection } from "../comm/connection.ts";
import { PendingTransport } from "../comm/pending_transport.ts";
import type { ClientToScheduler, Message, Requester } from "../comm/protocol.ts";
import type { Transport } from "../comm/transport.ts";
import { DEFAULT_RECONNECT_TIMEOUT } from "../comm/timeouts.ts";
import { CommClosedError } from "../core/errors.ts";
import { feedMessages } from "../actor/mailbox.ts";
import { activity } from "../comm/activity.ts";
import { type ClientHello, dialAny, type DialSettings } from "./dialers.ts";
import { reconnect } from "./reconnect.ts";
import type { ClientStimulus } from "./stimulus.ts";

/** The stimuli a link handles. */
export type LinkStimulus = Exclude<ClientStimulus, { kind: "flush" | "values-fetched" }>;

/** Who and where a link connects as. */
export interface LinkOptions {
  /** The address dialled (and dialled again to reconnect). */
  via: string;
  /** The client's id at the scheduler. */
  id: string;
  /** The scheduler's dashboard URL, if known. */
  dashboard?: string | null;
  /**
   * The client's name, the scheduler's auth token and, inside a task, its worker's address:
   * said in every hello.
   */
  hello: ClientHello;
  /** How long to keep trying to reconnect (ms; 0: never). */
  reconnectTimeout?: number;
  /** How it dials: for tls:// addresses, the CA certificates it trusts (also for its peers). */
  dialing?: DialSettings;
}

/** What the link tells its Client. */
export interface LinkEvents {
  /** Each message from the scheduler but `scheduler-closing`, which the link keeps. */
  onMessage(msg: Message): void;
  /** The connection is gone for good: what is pending fails, naming `reason`. */
  onLost(reason: string): void;
  /** The connection ended after the client's own `close()`. */
  onClosed(): void;
  /** A new connection replaced a dropped one: what the scheduler must hear first on it. */
  onReconnect(conn: Connection): void;
}

/** Sends that wait for the client's queue: see `SchedulerLink.after`. */
export interface OrderedSends {
  /** Sends `msg` after the queue; CommClosedError when the client is closed. */
  send(msg: ClientToScheduler): void;
  /** Sends a request after the queue; CommClosedError when the client is closed. */
  request: Requester<ClientToScheduler>;
}

/** The Client's connection to its scheduler, replaced when it drops. */
export class SchedulerLink {
  #conn: Connection;
  #id: string;
  #dashboard: string | null;
  readonly #via: string;
  readonly #hello: ClientHello;
  readonly #dialing: DialSettings;
  readonly #reconnectTimeout: number;
  readonly #events: LinkEvents;
  /** Set when the scheduler said it is closing for good: no reconnecting. */
  #schedulerGone: string | null = null;
  #abort = new AbortController();
  #closing = false;
  readonly #post: (s: LinkStimulus) => void;
  /** Of the current connection: why it could not open (null: open or still opening). */
  #openFailure: string | null = null;
  #opening = false;
  /** Of the current connection: why it closed (null: not closed). */
  #closedBecause: string | null = null;

  /**
   * Reads from `transport` (which `opening`, if given, is still opening); what happens to it is
   * posted to `post`, the Client's `receive`, which hands it back to `handle`.
   */
  constructor(
    transport: Transport,
    opening: Promise<unknown> | null,
    options: LinkOptions,
    events: LinkEvents,
    post: (s: LinkStimulus) => void,
  ) {
    this.#conn = new Connection(transport);
    this.#id = options.id;
    this.#dashboard = options.dashboard ?? null;
    this.#via = options.via;
    this.#hello = options.hello;
    this.#dialing = options.dialing ?? {};
    this.#reconnectTimeout = options.reconnectTimeout ?? DEFAULT_RECONNECT_TIMEOUT;
    this.#events = events;
    this.#post = post;
    transport.unref?.(); // it holds the program open only while the client waits (activity)
    this.#attach(this.#conn, opening);
  }

  /** The client's id at the scheduler (a reconnect may give a new one). */
  get id(): string {
    return this.#id;
  }

  /** The scheduler's dashboard URL, as its welcome said (null: none, or not known yet). */
  get dashboard(): string | null {
    return this.#dashboard;
  }

  /** Whether `close()` was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Whether messages can be sent: not closing, and not cut off for good. */
  get isOpen(): boolean {
    return !this.#closing && this.#conn.closeReason === null;
  }

  /** Throws CommClosedError when the client is closed. */
  checkOpen(): void {
    if (!this.isOpen) throw new CommClosedError("this client is closed");
  }

  /** Sends on the current connection, at once. */
  send(msg: ClientToScheduler): void {
    this.#conn.send(msg);
  }

  /** Sends a request on the current connection, at once. */
  request: Requester = (msg) => activity.during(this.#conn.request(msg));

  /**
   * Sends for messages that must follow what the client queued: each checks that the client
   * is open, runs `flush` (which sends the queue), then sends on the current connection.
   */
  after(flush: () => void): OrderedSends {
    return {
      send: (msg) => {
        this.checkOpen();
        flush();
        this.#conn.send(msg);
      },
      request: (msg) => {
        this.checkOpen();
        flush();
        return activity.during(this.#conn.request(msg));
      },
    };
  }

  /**
   * Says goodbye: runs `flush` and sends `close-client` when still connected, then waits for
   * the connection to end. No reconnecting from here on.
   */
  async close(flush: () => void): Promise<void> {
    this.#closing = true;
    this.#abort.abort();
    if (this.#conn.closeReason === null) {
      flush();
      this.#conn.send({ op: "close-client" });
      await this.#conn.drainAndClose("client closed");
    }
    await this.#conn.finished();
  }

  /** Handles what one of its connections did. */
  handle(s: LinkStimulus): void {
    switch (s.kind) {
      case "message":
        if (s.msg!.op === "scheduler-closing") this.#schedulerGone = s.msg!.reason;
        else this.#events.onMessage(s.msg!);
        return;
      case "welcome":
        if (s.id) this.#id = s.id;
        this.#dashboard = s.dashboard ?? null;
        return;
      case "opened":
        if (s.conn === this.#conn) this.#opening = false;
        return this.#settle(s.conn);
      case "open-failed":
        if (s.conn === this.#conn) {
          this.#opening = false;
          this.#openFailure = s.reason;
        }
        return this.#settle(s.conn);
      case "connection-closed":
        if (s.conn === this.#conn) this.#closedBecause = s.reason;
        return this.#settle(s.conn);
    }
  }

  /** Feeds `conn`'s messages, its opening (`opening`, if given) and its closing to `post`. */
  #attach(conn: Connection, opening: Promise<unknown> | null): void {
    this.#openFailure = null;
    this.#closedBecause = null;
    this.#opening = opening !== null;
    const message: LinkStimulus = { kind: "message", msg: null };
    feedMessages(conn, message, this.#post);
    opening?.then(
      () => this.#post({ kind: "opened", conn }),
      (e) => this.#post({ kind: "open-failed", conn, reason: (e as Error)?.message ?? String(e) }),
    );
    conn.closed.then((reason) => this.#post({ kind: "connection-closed", conn, reason }));
  }

  /**
   * Once the current connection closed and its opening is settled: the client closed, the
   * scheduler is gone or reconnecting is off (what is pending fails), or a new connection opens.
   */
  #settle(conn: Connection): void {
    const reason = this.#closedBecause;
    if (conn !== this.#conn || reason === null || this.#opening) return;
    if (this.#closing) return this.#events.onClosed();
    if (this.#openFailure !== null) return this.#events.onLost(this.#openFailure);
    if (this.#schedulerGone !== null || this.#reconnectTimeout <= 0) {
      return this.#events.onLost(this.#schedulerGone ?? reason);
    }
    this.#reconnect(reason);
  }

  /**
   * The connection dropped: a new one opens in the background (what is sent meanwhile waits
   * for it) and says hello with this client's id, so the scheduler gives back its wanted keys.
   */
  #reconnect(reason: string): void {
    const opening = reconnect({
      dial: (address) => dialAny(address, this.#dialing),
      address: this.#via,
      hello: { role: "client", ...this.#hello, resume: this.#id },
      timeout: this.#reconnectTimeout,
      signal: this.#abort.signal,
      onWelcome: (w) => this.#post({ kind: "welcome", id: w.id, dashboard: w.dashboard }),
    });
    const pending = new PendingTransport(this.#via, opening);
    pending.unref();
    const conn = new Connection(pending);
    this.#conn = conn;
    const failed = opening.catch((e: Error) => {
      throw new CommClosedError(`${reason}; ${e?.message ?? e}`);
    });
    this.#attach(conn, failed);
    this.#events.onReconnect(conn);
  }
}
