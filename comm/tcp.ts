/**
 * TCP transport: length-prefixed packets (see wire.ts) over a Deno TCP connection.
 *
 * The reader trusts no declared length: each is checked against the others before anything is
 * allocated, and buffers grow with the bytes that actually arrive (limits.ts has the figures).
 * First bytes that cannot begin a dtask packet but are an HTTP or TLS greeting are answered
 * where that helps, and end the stream with an error saying what they were (greeting.ts).
 */
import type { Packr } from "msgpackr";
import type { Message } from "./protocol.ts";
import type { Transport } from "./transport.ts";
import { align8, decodePacket, encodePacket, handshakeCodec, streamCodec } from "./wire.ts";
import { ProtocolError } from "../core/errors.ts";
import {
  answerAndLinger,
  DTASK_PORT,
  greetingAnswer,
  greetingError,
  recogniseGreeting,
} from "./greeting.ts";
import { returnStaging, takeStaging } from "./staging.ts";
import { sharedRegion } from "./buffer_pool.ts";
import { stallTimeoutOf, type TcpOptions } from "./tcp_options.ts";
import {
  DEFAULT_MAX_FRAME,
  EAGER_REGION,
  FIRST_READ_BUFFER,
  MAX_FIRST_FRAMES,
  MAX_FIRST_PACKET,
  MAX_FRAMES,
  MAX_HEADER,
  READ_BUFFER,
  SHARED_MIN,
} from "./limits.ts";

export { MAX_FIRST_PACKET };

/** Longest delay setTimeout takes without overflowing. */
const MAX_TIMER = 2 ** 31 - 1;

/** A transport over one TCP connection (or one TLS connection: the same framing inside TLS). */
export class TcpTransport implements Transport {
  readonly peer: string;
  #conn: Deno.Conn;
  // Codecs are made on first use: a connection that never gets past its handshake costs less.
  #enc: Packr | null = null;
  #dec: Packr | null = null;
  #buf = new Uint8Array(FIRST_READ_BUFFER);
  #start = 0;
  #end = 0;
  #closed = false;
  #first = true;
  #maxFrame: number;
  #stallTimeout: number;
  #onFirstPacket: (() => void) | undefined;
  #describePort: () => string;
  /** Bytes allocated for the packet being read (lengths, header, staging chunks, frames). */
  #held = 0;
  /** Whether the packet being read has started arriving (from then on, stalling is an error). */
  #inPacket = false;
  #lastByteAt = 0;
  #stallDue = 0;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #dropReason: string | null = null;
  #unref = false;

  constructor(conn: Deno.Conn, opts: TcpOptions = {}) {
    this.#conn = conn;
    this.#maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
    this.#stallTimeout = stallTimeoutOf(opts);
    this.#onFirstPacket = opts.onFirstPacket;
    this.#describePort = opts.describePort ?? (() => DTASK_PORT);
    if (opts.unref) this.unref();
    const a = conn.remoteAddr as Deno.NetAddr;
    this.peer = `${opts.scheme ?? "tcp"}://${a.hostname}:${a.port}`;
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch { /* not a TCP socket */ }
  }

  /** Bytes this transport holds for reading: its read buffer and the packet being received. */
  get reservedBytes(): number {
    return this.#buf.length + this.#held;
  }

  async writeBatch(batch: Message[]): Promise<void> {
    // a hello, or the refusal of a peer that never sent one, needs no codec of its own
    const lone = this.#enc === null && this.#first && batch.length === 1 &&
      (batch[0].op === "hello" || batch[0].op === "refused");
    const codec = lone ? handshakeCodec() : (this.#enc ??= streamCodec());
    const chunks = encodePacket(codec, batch);
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += await this.#conn.write(c.subarray(off));
    }
  }

  async readBatch(): Promise<unknown[] | null> {
    try {
      return await this.#readPacket();
    } finally {
      this.#inPacket = false;
      this.#held = 0;
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
  }

  async #readPacket(): Promise<unknown[] | null> {
    if (!(await (this.#first ? this.#fillFirstPrefix() : this.#fill(12, true)))) return null;
    this.#inPacket = true;
    const dv = new DataView(this.#buf.buffer, this.#start, 12);
    const body = dv.getUint32(0, true), hlen = dv.getUint32(4, true), n = dv.getUint32(8, true);
    this.#start += 12;
    let region: number;
    try {
      region = this.#checkPrefix(body, hlen, n);
    } catch (e) {
      if (this.#first) await this.#refuseGreeting();
      throw e;
    }
    const lens = await this.#readLengths(n, region);
    const header = await this.#readRegion(hlen, false);
    const frames: Uint8Array[] = [];
    if (n > 0) {
      const mem = await this.#readRegion(region, true);
      let off = 0;
      for (const l of lens) {
        frames.push(mem.subarray(off, off + l));
        off += align8(l);
      }
    }
    if (this.#first) this.#firstPacketRead();
    const batch = decodePacket(this.#dec ??= streamCodec(), header, frames);
    if (!Array.isArray(batch)) throw new ProtocolError("packet header is not a batch of messages");
    return batch;
  }

  /** Checks a packet's prefix against the limits and itself; returns its frame region's size. */
  #checkPrefix(body: number, hlen: number, n: number): number {
    if (this.#first && body > MAX_FIRST_PACKET) {
      throw new ProtocolError(
        `a first packet (the handshake) of ${body} bytes is too large: the limit is ` +
          `${MAX_FIRST_PACKET} (is the peer a dtask process of the same version?)`,
      );
    }
    if (this.#first && n > MAX_FIRST_FRAMES) {
      throw new ProtocolError(
        `a first packet (the handshake) declares ${n} frames: the limit is ${MAX_FIRST_FRAMES} ` +
          `(is the peer a dtask process of the same version?)`,
      );
    }
    if (n > MAX_FRAMES) {
      throw new ProtocolError(`packet declares ${n} frames, more than the limit of ${MAX_FRAMES}`);
    }
    if (hlen > MAX_HEADER) {
      throw new ProtocolError(`packet header of ${hlen} bytes is too large (limit ${MAX_HEADER})`);
    }
    const region = body - (8 + 4 * n + hlen);
    if (region < 0 || region % 8 !== 0 || (n === 0 && region !== 0)) {
      throw new ProtocolError(
        `packet length ${body} does not match its contents (${n} frames, a ${hlen}-byte header)`,
      );
    }
    return region;
  }

  /** Reads `n` frame lengths as they arrive, checking each; they must add up to `region`. */
  async #readLengths(n: number, region: number): Promise<number[]> {
    const lens: number[] = [];
    let sum = 0;
    while (lens.length < n) {
      await this.#fill(4);
      const k = Math.min(n - lens.length, (this.#end - this.#start) >>> 2);
      const dv = new DataView(this.#buf.buffer, this.#start, 4 * k);
      for (let i = 0; i < k; i++) {
        const l = dv.getUint32(4 * i, true);
        if (l > this.#maxFrame) {
          throw new ProtocolError(`frame of ${l} bytes exceeds the limit of ${this.#maxFrame}`);
        }
        sum += align8(l);
        lens.push(l);
      }
      this.#start += 4 * k;
      this.#held += 8 * k;
      if (sum > region) break;
    }
    if (sum !== region) {
      throw new ProtocolError(
        `packet frame lengths add up to ${sum} bytes, which does not match ` +
          `the ${region} bytes its length leaves for them`,
      );
    }
    return lens;
  }

  /**
   * Reads a region of `size` bytes into one buffer (shared memory when `shared` and large),
   * allocating only as bytes arrive: a region up to the eager size is allocated once its first
   * byte is in; a larger one goes into staging chunks of doubling size until half of it is in,
   * which are then copied into the final buffer, and the rest is read straight into that.
   */
  async #readRegion(size: number, shared: boolean): Promise<Uint8Array> {
    if (size === 0) return new Uint8Array(0);
    const staged: Uint8Array[] = [];
    let got = 0, stagedBytes = 0;
    if (size > EAGER_REGION || (this.#first && size > FIRST_READ_BUFFER)) {
      const half = Math.ceil(size / 2);
      for (let next = this.#first ? FIRST_READ_BUFFER : EAGER_REGION; got < half; next *= 2) {
        await this.#fill(1);
        const part = takeStaging(next).subarray(0, Math.min(next, half - got));
        this.#held += next;
        stagedBytes += next;
        await this.#readInto(part);
        staged.push(part);
        got += part.length;
      }
    }
    await this.#fill(1);
    // a large shared region comes warm from the process's buffer pool when it has one
    const out = shared && size >= SHARED_MIN ? sharedRegion(size) : new Uint8Array(size);
    this.#held += size - stagedBytes;
    let off = 0;
    for (const part of staged) {
      out.set(part, off);
      off += part.length;
      returnStaging(part.buffer as ArrayBuffer); // detaches `part` when it frees it
    }
    await this.#readInto(out.subarray(got));
    return out;
  }

  /**
   * `#fill(12, true)` for the first packet, which starts the buffer: also ends the stream at
   * first bytes that declare more than a first packet may hold, or stop short, and are an HTTP
   * or TLS greeting (a TLS alert is 7 bytes; its server may not close after it).
   */
  async #fillFirstPrefix(): Promise<boolean> {
    while (this.#end < 12) {
      const r = await this.#recv(this.#buf.subarray(this.#end));
      if (r === null) {
        if (this.#end === 0) return false;
        await this.#refuseGreeting();
        throw new ProtocolError("connection closed in the middle of a packet");
      }
      this.#end += r;
      const declared = this.#end >= 4 ? new DataView(this.#buf.buffer).getUint32(0, true) : 0;
      if (declared > MAX_FIRST_PACKET) await this.#refuseGreeting();
    }
    return true;
  }

  /**
   * When the first bytes of the stream (which are no dtask packet) are an HTTP or TLS greeting:
   * answers it (greeting.ts), closes, and throws the error saying what it was.
   */
  async #refuseGreeting(): Promise<void> {
    const greeting = recogniseGreeting(this.#buf.subarray(0, this.#end));
    if (greeting === null) return;
    const answer = greetingAnswer(greeting, this.#describePort);
    if (answer !== null) await answerAndLinger(this.#conn, answer, () => this.close());
    this.close();
    throw greetingError(greeting, this.peer);
  }

  /** Ensures `n` (at most 12) bytes are buffered; false at a clean end of stream when `eofOk`. */
  async #fill(n: number, eofOk = false): Promise<boolean> {
    while (this.#end - this.#start < n) {
      if (this.#start === this.#end) this.#start = this.#end = 0;
      else if (this.#buf.length - this.#start < n) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      const r = await this.#recv(this.#buf.subarray(this.#end));
      if (r === null) {
        if (eofOk && this.#end === this.#start) return false;
        throw new ProtocolError("connection closed in the middle of a packet");
      }
      this.#end += r;
    }
    return true;
  }

  /** Fills `dst` from the buffer, then straight from the socket. */
  async #readInto(dst: Uint8Array): Promise<void> {
    const have = Math.min(this.#end - this.#start, dst.length);
    dst.set(this.#buf.subarray(this.#start, this.#start + have));
    this.#start += have;
    let off = have;
    while (off < dst.length) {
      const r = await this.#recv(dst.subarray(off));
      if (r === null) throw new ProtocolError("connection closed in the middle of a packet");
      off += r;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Reads from the socket; in the middle of a packet, with the stall clock running. */
  async #recv(dst: Uint8Array): Promise<number | null> {
    const midPacket = this.#inPacket || this.#end > this.#start;
    if (midPacket && this.#stallTimer === undefined && this.#stallTimeout < Infinity) {
      this.#lastByteAt = performance.now(); // the clock starts when we start waiting
      this.#scheduleStallCheck(this.#stallTimeout);
    }
    let r: number | null;
    try {
      r = await this.#conn.read(dst);
    } catch (e) {
      if (this.#dropReason !== null) throw new ProtocolError(this.#dropReason);
      // a TLS peer that closed without close_notify: the framing tells a cut packet anyway
      if (e instanceof Deno.errors.UnexpectedEof) return null;
      throw e;
    }
    if (r !== null) this.#lastByteAt = performance.now();
    return r;
  }

  #scheduleStallCheck(ms: number): void {
    this.#stallDue = performance.now() + ms;
    this.#stallTimer = setTimeout(this.#checkStall, Math.min(ms, MAX_TIMER));
    if (this.#unref) Deno.unrefTimer(this.#stallTimer);
  }

  #checkStall = (): void => {
    const now = performance.now();
    // Fired late: this process was too busy to read, so the silence may be ours, not the peer's.
    if (now - this.#stallDue > 1000) this.#lastByteAt = now;
    const left = this.#lastByteAt + this.#stallTimeout - now;
    if (left > 0) return this.#scheduleStallCheck(left);
    this.#stallTimer = undefined;
    this.drop(
      `${this.peer} stalled mid-packet: it sent nothing for ${this.#stallTimeout} ms in the ` +
        `middle of a packet, so the connection was dropped (a slower network needs a larger ` +
        `stallTimeout)`,
    );
  };

  /** The first packet is in: the stream is past its handshake, so reads get the full buffer. */
  #firstPacketRead(): void {
    this.#first = false;
    const next = new Uint8Array(READ_BUFFER);
    next.set(this.#buf.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = next;
    this.#settleFirstPacket();
  }

  #settleFirstPacket(): void {
    const f = this.#onFirstPacket;
    this.#onFirstPacket = undefined;
    f?.();
  }

  /** Closes the connection; a pending or later read throws a ProtocolError saying `reason`. */
  drop(reason: string): void {
    this.#dropReason ??= reason;
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#settleFirstPacket();
  }

  unref(): void {
    this.#unref = true;
    this.#conn.unref();
  }
}

/** Opens a TCP transport to host:port. */
export async function connectTcp(
  host: string,
  port: number,
  opts: TcpOptions = {},
): Promise<TcpTransport> {
  return new TcpTransport(await Deno.connect({ hostname: host, port, transport: "tcp" }), opts);
}
