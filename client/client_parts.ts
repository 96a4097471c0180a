/**
 * A Client's parts, made and wired together: its link to the scheduler, its key table, its
 * submission queue, its peer connections, its topic handlers and in-task hooks; and the narrow
 * views of it that its helper modules get: what its Futures call (FutureHost), what graph,
 * scatter, cancel and values use (ClientHost), and what the cluster-wide calls use
 * (CallsClient). None of it is public API. Browser-safe (no Deno).
 *
 * It is the Client's actor, too: what arrives from the network, its flush tick and the results
 * of its async work enter through `receive`, one at a time (`ClientStimulus`). The user's own
 * calls run in their caller's turn, in the order the program makes them.
 *
 * @module
 */
import { Mailbox } from "../actor/mailbox.ts";
import { activity } from "../comm/activity.ts";
import { PeerPool } from "../comm/peer_pool.ts";
import type { Message } from "../comm/protocol.ts";
import type { Transport } from "../comm/transport.ts";
import type { Payload } from "../comm/serialize.ts";
import { fromEnvelope } from "../core/errors.ts";
import { type CallsClient, Topics } from "./cluster_calls.ts";
import { setCallsOf } from "./client_calls_of.ts";
import { cancelKeys, retryKeys } from "./cancel.ts";
import { canDial, dialAny } from "./dialers.ts";
import { Future, type FutureHost, type FutureOwner, type KeyState, newFuture } from "./future.ts";
import type { ClientHost } from "./host.ts";
import { KeyTable } from "./key_table.ts";
import type { ClusterLike, InTaskClientHooks } from "./options.ts";
import { resendPending } from "./reconnect.ts";
import { type LinkOptions, SchedulerLink } from "./scheduler_link.ts";
import { Submitter } from "./submit.ts";
import { TaskWaits } from "./task_waits.ts";
import * as values from "./values.ts";
import type { ClientStimulus } from "./stimulus.ts";

const FLUSH: ClientStimulus = { kind: "flush" };

/** How a Client starts: its first transport, and who and where it connects as. */
export interface ClientStart extends LinkOptions {
  transport: Transport;
  /** Resolves once `transport` is open (a Client whose connection opens in the background). */
  opening?: Promise<unknown>;
  /** The address the Client shows (`schedulerAddress`). */
  address: string;
  /** The cluster `Client.connect()` started for it, which closes with it. */
  own?: ClusterLike | null;
  /** The running task's hooks, for a Client made inside a task. */
  inTask?: InTaskClientHooks;
  /** What to do with arguments that are instances of classes with methods (default "error"). */
  classInstances?: "error" | "warn";
}

/** The Client as its parts see it: the owner of its Futures, and its `gather`. */
export interface ClientFront extends FutureOwner {
  gather(x: unknown): Promise<unknown>;
}

/** A Client's parts and views, one of each for the Client's lifetime. */
export class ClientParts {
  readonly keys = new KeyTable();
  readonly waits: TaskWaits;
  /** Submissions and the queue to the scheduler. */
  readonly queue: Submitter;
  readonly peers: PeerPool;
  readonly link: SchedulerLink;
  /** Cluster-wide calls' topic handlers. */
  readonly topics = new Topics();
  /** What this client's Futures call. */
  readonly future: FutureHost;
  /** What graph.ts, scatter.ts, cancel.ts and values.ts call. */
  readonly host: ClientHost;
  /** What cluster_calls.ts and cluster_info.ts call. */
  readonly calls: CallsClient;
  readonly #client: ClientFront;
  /** Connected over ws:// or wss://: values travel through the scheduler. */
  readonly #viaWebSocket: boolean;
  readonly #mailbox = new Mailbox<ClientStimulus>({
    handle: (s) => this.#handle(s),
    failed: (s, e) => console.error(`client: handling ${s.kind} failed:`, e),
  });

  constructor(client: ClientFront, start: ClientStart) {
    this.#client = client;
    this.#viaWebSocket = /^wss?:\/\//.test(start.via);
    const post = (s: ClientStimulus) => this.receive(s);
    this.waits = new TaskWaits(start.inTask ?? null);
    this.queue = new Submitter({
      client,
      future: (ks) => this.newFuture(ks),
      keys: this.keys.records,
      checkOpen: () => this.link.checkOpen(),
      taskKey: () => this.waits.taskKey(),
      send: (msg) => this.link.send(msg),
      flushDue: () => post(FLUSH),
      classInstances: start.classInstances ?? "error",
    });
    // a client's peer connections hold the program open only while it waits (activity)
    const dialUnref = (a: string) => dialAny(a, start.dialing).then((t) => (t.unref?.(), t));
    this.peers = new PeerPool(dialUnref, start.hello.name, start.hello.token);
    this.link = new SchedulerLink(start.transport, start.opening ?? null, start, {
      onMessage: (msg) => this.#onMessage(msg),
      onLost: (reason) => this.keys.lost(reason),
      onClosed: () => this.keys.closed(),
      onReconnect: (conn) => {
        resendPending((graph) => conn.send(graph), this.keys.values(), this.queue);
        this.topics.resubscribe((msg) => conn.send(msg));
      },
    }, post);
    this.future = this.#futureHost();
    this.host = this.#clientHost();
    this.calls = this.#callsClient();
    setCallsOf(client, this.calls);
  }

  /** The Client's one entry for what is not its user's call. */
  receive(s: ClientStimulus): void {
    this.#mailbox.receive(s);
  }

  #handle(s: ClientStimulus): void {
    switch (s.kind) {
      case "flush":
        return this.queue.flush();
      case "values-fetched":
        return values.fetched(this.host, s.states, s.values, s.missing);
      default:
        return this.link.handle(s);
    }
  }

  /** A new Future of `ks` for this client (one more reference). */
  newFuture<T = unknown>(ks: KeyState): Future<T> {
    return newFuture<T>(ks, this.future, this.#client);
  }

  /** Says goodbye to the scheduler; pending keys settle `cancelled`; peers close. */
  close(): Promise<void> {
    return activity.closing(this.#close());
  }

  async #close(): Promise<void> {
    await this.link.close(() => this.queue.flush());
    this.keys.closed();
    await this.peers.close();
  }

  /** What the scheduler says: of keys (the key table), and topic events. */
  #onMessage(msg: Message): void {
    if (this.keys.receive(msg)) return;
    if (msg.op === "topic-event") return this.topics.dispatch(msg);
    throw new Error(`a client does not accept ${msg.op}`);
  }

  #futureHost(): FutureHost {
    return {
      keyValue: (ks) =>
        ks.settled
          ? values.valueOf(this.host, ks)
          : this.waits.wait(() => values.valueOf(this.host, ks)),
      releaseKey: (ks) => {
        if (this.keys.release(ks) && !this.link.closing) this.queue.release(ks.key);
      },
      cancelKeys: (states, force) => {
        cancelKeys(this.host, new Set(states), force);
        return Promise.resolve();
      },
      retryKeys: (futures) => {
        retryKeys(this.host, futures);
        return Promise.resolve();
      },
    };
  }

  /** Graph, scatter and cancel messages go after the queued submissions. */
  #clientHost(): ClientHost {
    const { keys, queue, link, peers } = this;
    const after = link.after(() => queue.flushGraph());
    return {
      client: this.#client,
      classInstances: queue.classInstances,
      key: (key) => keys.get(key),
      addKey: (key) => keys.add(key),
      dropKey: (ks) => keys.drop(ks),
      future: (ks) => this.newFuture(ks),
      queued: () => queue.queuedSpecs,
      enqueue: (key, fn, args, deps, options, want, tables) =>
        queue.enqueue(key, fn, args, deps, options, want, tables),
      unwant: (keys) => queue.unwant(keys),
      isOpen: () => link.isOpen,
      checkOpen: () => link.checkOpen(),
      send: after.send,
      request: after.request,
      putData: (worker, values) =>
        activity.during(
          this.#proxied(worker)
            ? this.#putViaScheduler(worker, values)
            : peers.putData(worker, values),
        ),
      gather: (x) => this.#client.gather(x),
      getData: (worker, keys) =>
        activity.during(
          this.#proxied(worker) ? this.#getViaScheduler(worker, keys) : peers.getData(worker, keys),
        ),
      requestValues: (keys) => link.send({ op: "request-values", keys }),
      receive: (s) => this.receive(s),
    };
  }

  /**
   * Whether values to and from `worker` go through the scheduler: over WebSocket (a browser or
   * Deno Deploy cannot reach workers), or when no transport is registered for its address.
   */
  #proxied(worker: string): boolean {
    return this.#viaWebSocket || !canDial(worker);
  }

  async #getViaScheduler(worker: string, keys: string[]): Promise<Record<string, Payload>> {
    const reply = await this.link.request({ op: "gather-values", id: 0, worker, keys });
    return reply.values;
  }

  async #putViaScheduler(worker: string, values: Record<string, Payload>): Promise<void> {
    const reply = await this.link.request({ op: "scatter-values", id: 0, worker, values });
    if (reply.e) throw fromEnvelope(reply.e);
  }

  /** Cluster calls go after the queued submissions and releases. */
  #callsClient(): CallsClient {
    const after = this.link.after(() => this.queue.flush());
    return {
      request: after.request,
      ask: this.link.request,
      heldKeys: () => [...this.keys.keys()],
      send: after.send,
      keyOf: (v) => (v instanceof Future && v.client === this.#client ? v.key : undefined),
      adopt: (keys) => this.#adopt(keys),
      gather: (fs) => this.#client.gather(fs) as Promise<unknown[]>,
    };
  }

  /**
   * New Futures for keys the scheduler knows, as `wanted` by this client. A key it no longer
   * knows settles `cancelled` (the `request-values` after the graph update says so).
   */
  #adopt(keys: string[]): Future[] {
    const fresh: string[] = [];
    const futures = keys.map((key) => {
      let ks = this.keys.get(key);
      if (!ks) {
        ks = this.keys.add(key);
        this.queue.want(key);
        fresh.push(key);
      }
      return this.newFuture(ks);
    });
    if (fresh.length) {
      this.queue.flushGraph();
      this.link.send({ op: "request-values", keys: fresh });
    }
    return futures;
  }
}
