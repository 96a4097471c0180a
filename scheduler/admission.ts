/**
 * Admission: who may connect to the scheduler. A hello must carry the auth token and a role the
 * scheduler serves (the handshake checks both before admission sees the hello); a worker's
 * address and name are reserved from its hello until its handshake ends, so that two workers
 * racing for a name cannot both join; a client gets an id (its old one when it reconnects within
 * its grace period). Each step of a handshake reaches
 * the actor as a stimulus.
 *
 * @module
 */
import { type ListenerIdentity, receiveHello } from "../comm/handshake.ts";
import { type Hello, PROTOCOL_VERSION, type Welcome, type WorkerInfo } from "../comm/protocol.ts";
import type { Transport } from "../comm/transport.ts";
import type { HelloReceived, Post } from "./stimulus.ts";
import type { SchedulerState } from "./state.ts";
import { ACCEPT_HELLO_TIMEOUT } from "../comm/timeouts.ts";

/** How long a peer has to send its hello (ms). */
const HELLO_TIMEOUT = ACCEPT_HELLO_TIMEOUT;

/** What admission reads of the scheduler. */
export interface AdmissionHost {
  readonly state: SchedulerState;
  /** The scheduler's address, told to each peer it welcomes. */
  readonly address: string;
  /** The dashboard's URL, told to each client it welcomes. */
  dashboardLink(): string | null;
  /** Whether a worker at `address` has a live connection. */
  connected(address: string): boolean;
  /** Whether client `id` lost its connection and is within its grace period. */
  dropped(id: string): boolean;
}

/** Handshakes in progress, and the names and ids they hold. */
export class Admission {
  /** Transports whose handshake has not ended. */
  readonly #pending = new Set<Transport>();
  /** Workers between their hello and the end of their handshake, by transport. */
  readonly #joining = new Map<Transport, WorkerInfo>();
  /** The id given to each admitted client, until its handshake ends. */
  readonly #clientIds = new Map<Transport, string>();
  #clientSeq = 0;
  readonly #idSalt = crypto.randomUUID().slice(0, 8);

  constructor(readonly host: AdmissionHost) {}

  /** A handshake began on `t`. */
  opened(t: Transport): void {
    this.#pending.add(t);
  }

  /** Answers a hello: a welcome, or why the peer is refused. */
  admit(h: Hello, t: Transport): Welcome | string {
    const host = this.host;
    const welcome: Welcome = {
      op: "welcome",
      version: PROTOCOL_VERSION,
      role: "scheduler",
      address: host.address,
    };
    if (h.role === "worker") {
      const info = h.worker!; // validateHello checked its shape
      const joining = [...this.#joining.values()];
      if (host.connected(info.address) || joining.some((j) => j.address === info.address)) {
        return `a worker at ${info.address} is already registered`;
      }
      // a worker whose connection closed no longer holds its name (its nanny's new process may
      // register before the old one is removed)
      const taken = joining.find((j) => j.name === info.name)?.address ??
        [...host.state.workers.values()].find((ws) =>
          ws.info.name === info.name && host.connected(ws.address)
        )?.address;
      if (taken !== undefined) {
        return `a worker named ${JSON.stringify(info.name)} is already registered ` +
          `(at ${taken}); give each worker its own name`;
      }
      this.#joining.set(t, info);
      return welcome;
    }
    if (h.role === "client") {
      // a client reconnecting within its grace period gets its id (and wanted keys) back
      const resume = h.resume !== undefined && host.dropped(h.resume) ? h.resume : undefined;
      // unique across schedulers too: a client of a replaced scheduler cannot resume another's
      const id = resume ?? `client-${this.#idSalt}-${++this.#clientSeq}-${h.name.slice(0, 100)}`;
      this.#clientIds.set(t, id);
      welcome.id = id;
      const dashboard = host.dashboardLink();
      if (dashboard !== null) welcome.dashboard = dashboard;
      return welcome;
    }
    return `the scheduler does not accept ${h.role} connections`;
  }

  /** The handshake on `t` ended: its reservations go; returns the client id it was given. */
  ended(t: Transport): string | undefined {
    this.#pending.delete(t);
    this.#joining.delete(t);
    const id = this.#clientIds.get(t);
    this.#clientIds.delete(t);
    return id;
  }

  /** Closes every transport still in its handshake (the scheduler is closing). */
  closePending(): void {
    for (const t of this.#pending) t.close();
  }
}

/**
 * Runs the handshake of an accepted transport; its opening, its hello and its end each reach
 * the actor through `post`. A hello without the listener's token, or from a peer, is refused
 * before it reaches the actor.
 */
export async function handshake(
  t: Transport,
  listener: ListenerIdentity,
  post: Post,
): Promise<void> {
  post({ kind: "connection-opened", transport: t });
  let hello: Hello | null = null;
  try {
    hello = await receiveHello(t, listener, (h) => {
      // the actor answers at once (a hello never arrives while it handles another stimulus)
      const s: HelloReceived = { kind: "hello", transport: t, hello: h, verdict: "not admitted" };
      post(s);
      return s.verdict;
    }, HELLO_TIMEOUT);
  } finally {
    post({ kind: "handshake-ended", transport: t, hello });
  }
}
