/**
 * WebSocket transport: one binary message per batch, holding the same packet as TCP (wire.ts);
 * a packet over 8 MiB goes as consecutive messages (WebSocket stacks cap a message's size).
 * It uses only the standard `WebSocket` class, so it runs in browsers, on Deno Deploy and under
 * `deno run --allow-net`; the scheduler's listener (ws_listener.ts) wraps the sockets it
 * accepts in it too. Browser-safe: no `Deno.*`, no `node:`.
 *
 * @module
 */
import type { Message } from "./protocol.ts";
import type { Transport } from "./transport.ts";
import { decodePacket, encodePacket, handshakeCodec, streamCodec } from "./wire.ts";
import { joinChunks, splitPacket } from "./ws_packet.ts";
import { CommClosedError, ProtocolError } from "../core/errors.ts";
import { MAX_FIRST_PACKET } from "./limits.ts";
import { wsDialError } from "./tls_errors.ts";

/** One direction's msgpack codec (wire.ts). */
type Codec = ReturnType<typeof streamCodec>;

/** Bytes a socket may have queued before a write waits for them to drain. */
const HIGH_WATER = 4 * 1024 * 1024;
/** The largest message written; a larger packet goes as consecutive messages of this size. */
const MAX_MESSAGE = 8 * 1024 * 1024;
/** How often (ms) a waiting write looks at the socket's queue again. */
const DRAIN_POLL = 5;

/** A transport over one WebSocket. */
export class WebSocketTransport implements Transport {
  readonly #ws: WebSocket;
  readonly #opened: Promise<void>;
  #enc: Codec | null = null;
  #dec: Codec | null = null;
  #first = true;
  /** Messages arrived and not yet read; null marks the end of the stream. */
  readonly #queue: (ArrayBuffer | null)[] = [];
  #waiter: (() => void) | null = null;
  #ended = false;
  #why = "";
  /** The peer broke the protocol (a text message), or was dropped: its end is an error. */
  #refused = false;

  /** Told once the first packet (the handshake) is in, or the socket closed before it. */
  #onFirstPacket: (() => void) | undefined;

  /**
   * Wraps `ws` (open or still connecting); `peer` names the other end; `onFirstPacket` is told
   * once its first packet is in (or it closed before).
   */
  constructor(
    ws: WebSocket,
    readonly peer: string,
    readonly maxFrame?: number,
    onFirstPacket?: () => void,
  ) {
    this.#ws = ws;
    this.#onFirstPacket = onFirstPacket;
    ws.binaryType = "arraybuffer";
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#opened = promise;
    promise.catch(() => {});
    if (ws.readyState === WebSocket.OPEN) resolve();
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("message", (e) => {
      const data = (e as MessageEvent).data;
      if (data instanceof ArrayBuffer) this.#push(data);
      else {
        this.#why = `${peer} sent a text message; dtask speaks binary packets`;
        this.#refused = true;
        this.#push(null);
        // 1003 (unsupported data) is what the protocol means, but the WebSocket API lets a
        // program close only with 1000 or 3000-4999 (any other code throws)
        ws.close(4003, "binary messages only");
      }
    });
    ws.addEventListener("error", (e) => {
      // Deno says why (an untrusted certificate, no HTTP answer); a browser does not
      const said = (e as { message?: unknown }).message;
      this.#why ||= typeof said === "string" && said ? said : `the WebSocket to ${peer} failed`;
    });
    ws.addEventListener("close", (e) => {
      const ce = e as CloseEvent;
      this.#why ||= `${peer} closed the WebSocket` + (ce.reason ? ` (${ce.reason})` : "");
      reject(new CommClosedError(`cannot connect to ${peer}: ${this.#why}`));
      this.#push(null);
      this.#settleFirstPacket();
    });
  }

  /**
   * Opens a WebSocket to `address` (ws:// or wss://) with `open` (default: the standard
   * constructor); rejects with a CommClosedError saying why when it cannot open.
   */
  static async connect(
    address: string,
    open: (address: string) => WebSocket = (a) => new WebSocket(a),
  ): Promise<WebSocketTransport> {
    let ws: WebSocket;
    try {
      ws = open(address);
    } catch (e) {
      throw new CommClosedError(`cannot connect to ${address}: ${(e as Error).message}`);
    }
    const t = new WebSocketTransport(ws, address);
    await t.#opened;
    return t;
  }

  #push(data: ArrayBuffer | null): void {
    if (this.#ended) return;
    if (data === null) this.#ended = true;
    this.#queue.push(data);
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async writeBatch(batch: Message[]): Promise<void> {
    await this.#opened;
    if (this.#ws.readyState !== WebSocket.OPEN) {
      throw new CommClosedError(`the WebSocket to ${this.peer} is closed`);
    }
    // a hello, or the refusal of a peer that never sent one, needs no codec of its own
    const lone = this.#enc === null && this.#first && batch.length === 1 &&
      (batch[0].op === "hello" || batch[0].op === "refused");
    const codec = lone ? handshakeCodec() : (this.#enc ??= streamCodec());
    const bytes = joinChunks(encodePacket(codec, batch));
    // WebSocket stacks cap a message (Deno's at 64 MiB): a larger packet goes in slices
    for (let off = 0; off < bytes.length; off += MAX_MESSAGE) {
      this.#ws.send(bytes.subarray(off, off + MAX_MESSAGE));
    }
    while (this.#ws.bufferedAmount > HIGH_WATER && this.#ws.readyState === WebSocket.OPEN) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL));
    }
  }

  /** The next message, null at the end of the stream (and at every read after it). */
  async #nextMessage(): Promise<ArrayBuffer | null> {
    while (this.#queue.length === 0) {
      await new Promise<void>((r) => (this.#waiter = r));
    }
    const data = this.#queue[0];
    if (data !== null) this.#queue.shift();
    return data;
  }

  /**
   * The next packet: one message, or the slices of a larger one joined (the bytes held grow
   * with those that arrive, never with what a length declares).
   */
  async #nextPacket(first: boolean): Promise<ArrayBuffer | null> {
    const head = await this.#nextMessage();
    if (head === null || head.byteLength < 4) return head;
    const total = 4 + new DataView(head).getUint32(0, true);
    if (head.byteLength >= total) return head;
    if (first && total > MAX_FIRST_PACKET) {
      throw new ProtocolError(
        `a first packet (the handshake) of ${total} bytes is too large: the limit is ` +
          `${MAX_FIRST_PACKET}`,
      );
    }
    const parts = [new Uint8Array(head)];
    let have = head.byteLength;
    while (have < total) {
      const next = await this.#nextMessage();
      if (next === null) throw new ProtocolError(`${this.peer} closed inside a packet`);
      parts.push(new Uint8Array(next));
      have += next.byteLength;
    }
    if (have !== total) {
      throw new ProtocolError(`${this.peer} sent ${have} bytes for a packet of ${total}`);
    }
    return joinChunks(parts).buffer;
  }

  async readBatch(): Promise<unknown[] | null> {
    const first = this.#first;
    const data = await this.#nextPacket(first);
    if (data === null) {
      if (this.#refused) throw new ProtocolError(this.#why);
      return null;
    }
    this.#first = false;
    if (first) this.#settleFirstPacket();
    const { header, frames } = splitPacket(data, first, this.maxFrame);
    const batch = decodePacket(this.#dec ??= streamCodec(), header, frames);
    if (!Array.isArray(batch)) throw new ProtocolError(`${this.peer} sent a packet of no batch`);
    return batch;
  }

  #settleFirstPacket(): void {
    const f = this.#onFirstPacket;
    this.#onFirstPacket = undefined;
    f?.();
  }

  /** Closes the connection; a pending or later read throws a ProtocolError saying `reason`. */
  drop(reason: string): void {
    this.#why = reason;
    this.#refused = true;
    this.#push(null);
    this.close();
  }

  close(): void {
    const ws = this.#ws;
    if (ws.readyState === WebSocket.CLOSING || ws.readyState === WebSocket.CLOSED) return;
    ws.close(1000);
  }
}

/**
 * Dials a ws:// or wss:// address with the standard WebSocket (the browser-safe client registers
 * it for both schemes). It cannot use `tls.caCerts` for one connection: a wss:// certificate must
 * be trusted by the runtime, and when it is not the TlsError says how to make it so.
 */
export async function dialWebSocket(address: string): Promise<Transport> {
  try {
    return await WebSocketTransport.connect(address);
  } catch (e) {
    throw wsDialError(address, e, { perConnectionCa: false });
  }
}
