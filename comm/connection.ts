/**
 * A message stream over a transport: batched sending, a validating read loop, and
 * request/reply matching by `id`.
 */
import type { Transport } from "./transport.ts";
import {
  type Message,
  type Replies,
  REPLY_OPS,
  type RequestMessage,
  type RequestOp,
  validateMessage,
} from "./protocol/messages.ts";
import { describe } from "./protocol/fields.ts";
import { CommClosedError, ProtocolError } from "../core/errors.ts";
import type { Payload } from "./serialize.ts";
import { DRAIN_TIMEOUT } from "./timeouts.ts";

export { validateMessage };

/**
 * Most work written in one batch (a message counts 1, a graph update one per task): keeps
 * packets bounded, so the reader decodes a little at a time while the writer encodes the rest.
 */
const MAX_BATCH = 5000;

/** How much a message weighs against MAX_BATCH. */
function weight(msg: Message): number {
  return msg.op === "update-graph" ? msg.tasks.length + (msg.plain?.k.length ?? 0) || 1 : 1;
}

/** Bytes of values a message carries (results, fetched or scattered data). */
function carried(msg: Message): number {
  const v = (msg as { v?: Payload }).v;
  let n = v === undefined ? 0 : v.nbytes;
  const values = (msg as { values?: Record<string, Payload> }).values;
  if (values !== undefined) { for (const k in values) n += values[k].nbytes; }
  return n;
}

/** Receives each message of a stream. */
export type MessageHandler = (msg: Message, conn: Connection) => void;

/** A live message stream with batched sends. */
export class Connection {
  /** Where the other end is. */
  readonly peer: string;
  /** Set once closed: why. */
  closeReason: string | null = null;
  /** Resolves when the stream is closed, for any reason. */
  readonly closed: Promise<string>;
  #transport: Transport;
  #pending: Message[] = [];
  /** Bytes of values in `#pending`, and in the batch being written. */
  #pendingBytes = 0;
  #writingBytes = 0;
  #writing = false;
  /** Who hears when `queuedBytes` passes a bound, and again when half of it is left. */
  #queueWatch: { limit: number; over: boolean; onChange: (over: boolean) => void } | null = null;
  #flushQueued = false;
  #requests = new Map<number, PromiseWithResolvers<Message>>();
  #nextId = 1;
  #resolveClosed: (r: string) => void;
  #loop: Promise<void> | null = null;
  #drained: PromiseWithResolvers<void> | null = null;

  constructor(transport: Transport, readonly log: (msg: string) => void = () => {}) {
    this.#transport = transport;
    this.peer = transport.peer;
    const { promise, resolve } = Promise.withResolvers<string>();
    this.closed = promise;
    this.#resolveClosed = resolve;
  }

  /** Queues a message; it goes out at once if the stream is idle, else with the next batch. */
  send(msg: Message): void {
    if (this.closeReason !== null) return;
    this.#pending.push(msg);
    this.#pendingBytes += carried(msg);
    const watch = this.#queueWatch;
    if (watch !== null && !watch.over && this.queuedBytes > watch.limit) {
      watch.over = true;
      watch.onChange(true);
    }
    if (!this.#writing && !this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /**
   * Bytes of values queued and not yet written: they grow when the peer stops reading, so a
   * sender can stop queueing more (backpressure).
   */
  get queuedBytes(): number {
    return this.#pendingBytes + this.#writingBytes;
  }

  /**
   * Calls `onChange(true)` when more than `limit` bytes of values are queued (the peer reads
   * slower than we send), and `onChange(false)` once at most half of it is left.
   */
  watchQueue(limit: number, onChange: (over: boolean) => void): void {
    this.#queueWatch = { limit, over: false, onChange };
  }

  /** Sends a request and resolves with the reply carrying the same id, typed by its op. */
  request<O extends RequestOp>(msg: RequestMessage<O>): Promise<Replies[O]> {
    if (this.closeReason !== null) {
      return Promise.reject(new CommClosedError(`connection to ${this.peer} is closed`));
    }
    const id = this.#nextId++;
    msg.id = id;
    const w = Promise.withResolvers<Message>();
    this.#requests.set(id, w);
    this.send(msg);
    return w.promise as Promise<Replies[O]>;
  }

  async #flush(): Promise<void> {
    this.#flushQueued = false;
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#pending.length && this.closeReason === null) {
        const pending = this.#pending;
        let n = 0;
        for (let w = 0; n < pending.length && (n === 0 || w < MAX_BATCH); n++) {
          w += weight(pending[n]);
        }
        const batch = n === pending.length ? pending : pending.slice(0, n);
        this.#pending = n === pending.length ? [] : pending.slice(n);
        let bytes = this.#pendingBytes;
        if (n !== pending.length) {
          bytes = 0;
          for (let i = 0; i < n; i++) bytes += carried(batch[i]);
        }
        this.#pendingBytes -= bytes;
        this.#writingBytes = bytes;
        await this.#transport.writeBatch(batch);
        this.#writingBytes = 0;
        const watch = this.#queueWatch;
        if (watch?.over && this.queuedBytes <= watch.limit / 2) {
          watch.over = false;
          watch.onChange(false);
        }
      }
    } catch (e) {
      this.close(`write failed: ${(e as Error).message}`);
    } finally {
      this.#writing = false;
      this.#drained?.resolve();
      this.#drained = null;
    }
  }

  /** Starts reading; each valid message goes to `handler`. A bad message closes the stream. */
  start(handler: MessageHandler): void {
    this.#loop ??= this.#read(handler);
  }

  async #read(handler: MessageHandler): Promise<void> {
    let reason = "closed by peer";
    try {
      while (this.closeReason === null) {
        const batch = await this.#transport.readBatch();
        if (batch === null) break;
        for (const raw of batch) {
          if (this.closeReason !== null) return;
          const msg = validateMessage(raw);
          if (REPLY_OPS.has(msg.op)) {
            const id = (msg as { id?: number }).id as number;
            const w = this.#requests.get(id);
            if (w) {
              this.#requests.delete(id);
              w.resolve(msg);
              continue;
            }
          }
          handler(msg, this);
        }
      }
    } catch (e) {
      // Anything may be thrown here (by a handler, by msgpackr): describe it without trusting it.
      reason = !(e instanceof Error)
        ? `thrown: ${describe(e)}`
        : e instanceof ProtocolError || e instanceof RangeError || e instanceof TypeError
        ? `protocol error: ${e.message}`
        : `${e.name}: ${e.message}`;
      if (this.closeReason === null) this.log(`closing connection to ${this.peer}: ${reason}`);
    }
    this.close(reason);
  }

  /** Closes the stream; pending requests reject. Idempotent. */
  close(reason = "closed"): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    this.#pending = [];
    this.#pendingBytes = this.#writingBytes = 0;
    this.#transport.close();
    for (const w of this.#requests.values()) {
      w.reject(new CommClosedError(`connection to ${this.peer} closed: ${reason}`));
    }
    this.#requests.clear();
    this.#drained?.resolve();
    this.#resolveClosed(reason);
  }

  /**
   * Sends what is queued, then closes. Gives up after `timeoutMs` (a peer that stops reading
   * must not hold its closer forever).
   */
  async drainAndClose(reason = "closed", timeoutMs = DRAIN_TIMEOUT): Promise<void> {
    if ((this.#pending.length || this.#writing) && this.closeReason === null) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
      try {
        while ((this.#pending.length || this.#writing) && this.closeReason === null) {
          this.#drained ??= Promise.withResolvers<void>();
          if (!(await Promise.race([this.#drained.promise.then(() => true), late]))) {
            reason += ` (unsent messages dropped after ${timeoutMs} ms)`;
            break;
          }
        }
      } finally {
        clearTimeout(timer);
      }
    }
    this.close(reason);
  }

  /** Awaits the read loop's end (after close). */
  async finished(): Promise<void> {
    await this.#loop;
  }
}
