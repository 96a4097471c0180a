/**
 * The actors of an executor's threads: which thread holds each instance (the one its actor
 * task ran on), the calls posted to it — batched per thread within a tick, in arrival order —
 * and their results on the way back. A call on an actor no thread here holds fails at once; a
 * thread that dies takes its actors with it, and the calls in flight on them fail.
 *
 * @module
 */
import { Payload } from "../comm/serialize.ts";
import { postable } from "./thread_slot.ts";
import { ActorLostError, toEnvelope } from "../core/errors.ts";
import type {
  ActorCallResult,
  RelayedActorCall,
  ThreadActorCall,
  ThreadActorResult,
  ToThread,
  WireOutcome,
} from "../comm/protocol.ts";

/** A thread as the actor table sees it: where its messages go. */
export interface ActorThread {
  readonly index: number;
  readonly worker: { postMessage(msg: ToThread, transfer?: Transferable[]): void };
}

/** Which thread holds each actor, and the calls in flight on them. */
export class ExecutorActors<S extends ActorThread = ActorThread> {
  readonly #threadOf = new Map<string, S>();
  /** Actor tasks handed to a thread and not settled. */
  readonly #creating = new Set<string>();
  /** Actors released while being made: dropped once made. */
  readonly #doomed = new Set<string>();
  /** Calls in flight, by number: the actor's key and its thread. */
  readonly #inflight = new Map<number, { key: string; thread: S }>();
  #batches = new Map<S, { calls: ThreadActorCall[]; transfer: Transferable[] }>();
  #flushQueued = false;

  /** `onResults`: where the calls' outcomes go, in batches. */
  constructor(readonly onResults: (results: ActorCallResult[]) => void) {}

  /** Actor task `key` was handed to a thread. */
  creating(key: string): void {
    this.#creating.add(key);
  }

  /** A thread posted outcomes: an actor task that succeeded left its instance there. */
  settled(thread: S, outcomes: WireOutcome[]): void {
    if (this.#creating.size === 0) return;
    for (const o of outcomes) {
      if (!this.#creating.delete(o.k)) continue;
      const doomed = this.#doomed.delete(o.k);
      if (o.v === undefined) continue; // it failed: no instance
      if (doomed) thread.worker.postMessage({ op: "actor-drop", keys: [o.k] });
      else this.#threadOf.set(o.k, thread);
    }
  }

  /** Actor tasks that ended without an outcome (their thread crashed): none was made. */
  lost(keys: string[]): void {
    for (const k of keys) {
      this.#creating.delete(k);
      this.#doomed.delete(k);
    }
  }

  /** Calls relayed by the scheduler: each goes to its actor's thread, in order. */
  call(calls: RelayedActorCall[]): void {
    const failed: ActorCallResult[] = [];
    for (const c of calls) {
      const thread = this.#threadOf.get(c.k);
      if (thread === undefined) {
        failed.push({ i: c.i, e: toEnvelope(notHere(c.k)) });
        continue;
      }
      let batch = this.#batches.get(thread);
      if (!batch) this.#batches.set(thread, batch = { calls: [], transfer: [] });
      const t = batch.transfer;
      const a: ThreadActorCall["a"] = [
        postable(c.a.header, t),
        c.a.frames.map((f) => postable(f, t)),
      ];
      batch.calls.push({ i: c.i, k: c.k, m: c.m, a });
      this.#inflight.set(c.i, { key: c.k, thread });
    }
    if (failed.length) this.onResults(failed);
    if (this.#batches.size && !this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const batches = this.#batches;
    this.#batches = new Map();
    for (const [thread, { calls, transfer }] of batches) {
      thread.worker.postMessage({ op: "actor-calls", calls }, transfer);
    }
  }

  /** A thread posted results of calls. */
  results(thread: S, results: ThreadActorResult[]): void {
    const out: ActorCallResult[] = [];
    for (const r of results) {
      const c = this.#inflight.get(r.i);
      if (c === undefined || c.thread !== thread) continue; // its thread was replaced meanwhile
      this.#inflight.delete(r.i);
      out.push(r.v ? { i: r.i, v: new Payload(r.v[0], r.v[1]) } : { i: r.i, e: r.e! });
    }
    if (out.length) this.onResults(out);
  }

  /** The keys of these actors were released: their threads forget them. */
  drop(keys: string[]): void {
    if (this.#batches.size) this.#flush(); // calls that came before the release go first
    for (const key of keys) {
      const thread = this.#threadOf.get(key);
      if (thread !== undefined) {
        this.#threadOf.delete(key);
        thread.worker.postMessage({ op: "actor-drop", keys: [key] });
      } else if (this.#creating.has(key)) this.#doomed.add(key);
    }
  }

  /** A thread died (`reason`): its actors are gone, and the calls in flight on them fail. */
  died(thread: S, reason: string): void {
    for (const [key, t] of this.#threadOf) if (t === thread) this.#threadOf.delete(key);
    const failed: ActorCallResult[] = [];
    for (const [i, c] of this.#inflight) {
      if (c.thread !== thread) continue;
      this.#inflight.delete(i);
      const e = new ActorLostError(
        `the thread holding actor ${c.key} died (${reason}); its state was lost`,
      );
      failed.push({ i, e: toEnvelope(e) });
    }
    this.#batches.delete(thread);
    if (failed.length) this.onResults(failed);
  }
}

/** The error of a call on an actor this worker does not hold. */
function notHere(key: string): Error {
  return new ActorLostError(
    `actor ${key} is not held on this worker: it was released, or its thread died`,
  );
}
