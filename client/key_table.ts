/**
 * A Client's record of the keys it holds, and what the scheduler tells it about them: a value
 * in memory, an error, keys cancelled. Browser-safe (no Deno).
 *
 * @module
 */
import type { Message } from "../comm/protocol.ts";
import { CancelledError, CommClosedError, fromEnvelope } from "../core/errors.ts";
import { KeyState } from "./future.ts";

/** The keys a Client holds, each with the record its Futures share. */
export class KeyTable {
  /** The records by key, in submission order (the same Map for the Client's lifetime). */
  readonly records = new Map<string, KeyState>();

  /** The record of `key`, if held. */
  get(key: string): KeyState | undefined {
    return this.records.get(key);
  }

  /** Registers a fresh record of `key` (replacing none: check `get` first). */
  add(key: string): KeyState {
    const ks = new KeyState(key);
    this.records.set(key, ks);
    ks.attach();
    return ks;
  }

  /** Forgets `ks` if it is still the record of its key; returns whether it was. */
  drop(ks: KeyState): boolean {
    if (this.records.get(ks.key) !== ks) return false;
    ks.detach();
    return this.records.delete(ks.key);
  }

  /** The keys held. */
  keys(): IterableIterator<string> {
    return this.records.keys();
  }

  /** The records, in submission order. */
  values(): IterableIterator<KeyState> {
    return this.records.values();
  }

  /**
   * A Future of `ks` was released: true when that was the key's last one and the key is
   * dropped here (the scheduler should hear of it).
   */
  release(ks: KeyState): boolean {
    if (--ks.refs > 0) return false;
    ks.dropSpec();
    return this.drop(ks);
  }

  /** Takes `key-in-memory`, `key-erred` and `keys-cancelled`; false for any other message. */
  receive(msg: Message): boolean {
    switch (msg.op) {
      case "key-in-memory": {
        const ks = this.records.get(msg.k);
        if (!ks) return true;
        ks.holders = msg.w;
        if (msg.v) ks.payload = msg.v;
        if (!ks.settled) ks.settle("finished");
        return true;
      }
      case "key-erred": {
        const ks = this.records.get(msg.k);
        // also a finished key: its value was lost for good (an actor whose worker died)
        if (ks && (!ks.settled || ks.status === "finished")) {
          ks.settle("error", fromEnvelope(msg.e));
        }
        return true;
      }
      case "keys-cancelled":
        for (const k of msg.keys) {
          const ks = this.records.get(k);
          if (!ks) continue;
          this.records.delete(k); // the scheduler dropped our interest: a resubmit computes it again
          ks.detach();
          // also a finished key: its value is gone (lost scattered data, restart)
          if (ks.status !== "cancelled") ks.settle("cancelled", new CancelledError(msg.reason));
        }
        return true;
      default:
        return false;
    }
  }

  /** The scheduler connection is gone for good: every pending key settles `lost`. */
  lost(reason: string): void {
    for (const ks of this.records.values()) {
      if (!ks.settled) {
        ks.settle(
          "lost",
          new CommClosedError(`the connection to the scheduler was lost (${reason})`),
        );
      }
    }
  }

  /** The client closed: every pending key settles `cancelled`. */
  closed(): void {
    for (const ks of this.records.values()) {
      if (!ks.settled) ks.settle("cancelled", new CancelledError("the client was closed"));
    }
  }
}
