/** TCP transport: length-prefixed packets (see wire.ts) over a Deno TCP connection. */
import type { Packr } from "msgpackr";
import type { Message } from "./protocol.ts";
import type { Listener, Transport } from "./transport.ts";
import {
  align8,
  decodePacket,
  DEFAULT_MAX_FRAME,
  encodePacket,
  MAX_HEADER,
  streamCodec,
} from "./wire.ts";
import { ProtocolError } from "./errors.ts";

const READ_CHUNK = 64 * 1024;
/** Frame regions at least this large are read into shared memory (threads see them uncopied). */
const SHARED_MIN = 64 * 1024;
const MAX_FRAMES = 1 << 20;
/**
 * Largest first packet of a stream. It holds the handshake (hello, welcome or refused), which
 * is small: an unauthenticated peer cannot make us allocate a large header or frame region.
 */
export const MAX_FIRST_PACKET = 1024 * 1024;

/** A transport over one TCP connection. */
export class TcpTransport implements Transport {
  readonly peer: string;
  #conn: Deno.Conn;
  #enc: Packr = streamCodec();
  #dec: Packr = streamCodec();
  #buf = new Uint8Array(READ_CHUNK);
  #start = 0;
  #end = 0;
  #closed = false;
  #first = true;
  #maxFrame: number;

  constructor(conn: Deno.Conn, opts: { maxFrame?: number } = {}) {
    this.#conn = conn;
    this.#maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
    const a = conn.remoteAddr as Deno.NetAddr;
    this.peer = `tcp://${a.hostname}:${a.port}`;
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch { /* not a TCP socket */ }
  }

  async writeBatch(batch: Message[]): Promise<void> {
    const chunks = encodePacket(this.#enc, batch);
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += await this.#conn.write(c.subarray(off));
    }
  }

  async readBatch(): Promise<unknown[] | null> {
    if (!(await this.#fill(12, true))) return null;
    const dv = new DataView(this.#buf.buffer, this.#start, 12);
    const body = dv.getUint32(0, true), hlen = dv.getUint32(4, true), n = dv.getUint32(8, true);
    this.#start += 12;
    if (this.#first) {
      this.#first = false;
      if (body > MAX_FIRST_PACKET) {
        throw new ProtocolError(`a first packet (the handshake) of ${body} bytes is too large`);
      }
    }
    if (n > MAX_FRAMES) throw new ProtocolError(`packet declares ${n} frames`);
    if (hlen > MAX_HEADER) throw new ProtocolError(`packet header of ${hlen} bytes is too large`);
    const lens = new Uint32Array(n);
    if (n > 0) {
      await this.#fill(4 * n);
      const ldv = new DataView(this.#buf.buffer, this.#start, 4 * n);
      for (let i = 0; i < n; i++) lens[i] = ldv.getUint32(4 * i, true);
      this.#start += 4 * n;
    }
    let region = 0;
    for (const l of lens) {
      if (l > this.#maxFrame) {
        throw new ProtocolError(`frame of ${l} bytes exceeds the limit of ${this.#maxFrame}`);
      }
      region += align8(l);
    }
    if (body !== 8 + 4 * n + hlen + region) {
      throw new ProtocolError(`packet length ${body} does not match its contents`);
    }
    const header = new Uint8Array(hlen);
    await this.#readInto(header);
    const frames: Uint8Array[] = [];
    if (n > 0) {
      const mem = new Uint8Array(
        region >= SHARED_MIN ? new SharedArrayBuffer(region) : new ArrayBuffer(region),
      );
      await this.#readInto(mem);
      let off = 0;
      for (const l of lens) {
        frames.push(mem.subarray(off, off + l));
        off += align8(l);
      }
    }
    const batch = decodePacket(this.#dec, header, frames);
    if (!Array.isArray(batch)) throw new ProtocolError("packet header is not a batch of messages");
    return batch;
  }

  /** Ensures `n` bytes are buffered; false at a clean end of stream when `eofOk`. */
  async #fill(n: number, eofOk = false): Promise<boolean> {
    if (this.#end - this.#start >= n) return true;
    if (this.#buf.length - this.#start < n) {
      const next = new Uint8Array(Math.max(READ_CHUNK, n));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buf = next;
    }
    while (this.#end - this.#start < n) {
      const r = await this.#conn.read(this.#buf.subarray(this.#end));
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
      const r = await this.#conn.read(dst.subarray(off));
      if (r === null) throw new ProtocolError("connection closed in the middle of a packet");
      off += r;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/** Opens a TCP transport to host:port. */
export async function connectTcp(host: string, port: number): Promise<TcpTransport> {
  return new TcpTransport(await Deno.connect({ hostname: host, port, transport: "tcp" }));
}

/** Listens on host:port (0 = any free port) and hands each accepted transport to `onAccept`. */
export function listenTcp(
  host: string,
  port: number,
  onAccept: (t: TcpTransport) => void,
): Listener {
  const l = Deno.listen({ hostname: host, port, transport: "tcp" });
  const addr = l.addr as Deno.NetAddr;
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let closing: Promise<void> | null = null;
  const loop = (async () => {
    while (closing === null) {
      let conn: Deno.Conn;
      try {
        conn = await l.accept();
      } catch (e) {
        if (closing !== null || e instanceof Deno.errors.BadResource) return;
        // A connection reset before it was accepted, or out of descriptors: keep listening.
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      try {
        onAccept(new TcpTransport(conn));
      } catch {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    }
  })();
  return {
    address: `tcp://${shown}:${addr.port}`,
    close() {
      closing ??= (async () => {
        try {
          l.close();
        } catch { /* already closed */ }
        await loop;
      })();
      return closing;
    },
  };
}
