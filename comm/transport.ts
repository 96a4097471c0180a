/** The transport interface: a duplex stream of message batches, and address parsing. */
import type { Message } from "./protocol.ts";

/** A duplex stream of message batches (TCP, in-process, ...). */
export interface Transport {
  /** Where the other end is, as an address string. */
  readonly peer: string;
  /** Writes one batch; rejects when the stream is closed. */
  writeBatch(batch: Message[]): Promise<void>;
  /** Reads the next batch; `null` at the end of the stream. Throws on malformed input. */
  readBatch(): Promise<unknown[] | null>;
  /** Closes both directions; idempotent. */
  close(): void;
  /**
   * Lets the program exit while this stream is open and idle (Deno's `unref`); transports with
   * nothing that holds a program open (in-process ones) have none.
   */
  unref?(): void;
}

/** Accepts transports at an address until closed. */
export interface Listener {
  /** The address peers connect to. */
  readonly address: string;
  /** Stops accepting; idempotent. */
  close(): Promise<void>;
}

/** An address split into its parts. */
export interface ParsedAddress {
  scheme: "tcp" | "inproc" | "ws" | "wss" | "tls";
  host: string;
  port: number;
}

/** Parses `tcp://host:port`, `inproc://name`, `ws://host:port`; a bare `host:port` is tcp. */
export function parseAddress(address: string): ParsedAddress {
  const m = /^(?:(tcp|inproc|ws|wss|tls):\/\/)?(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(address);
  if (!m) {
    throw new TypeError(`not an address: ${JSON.stringify(address)} (expected tcp://host:port)`);
  }
  const scheme = (m[1] ?? "tcp") as ParsedAddress["scheme"];
  const port = m[3] === undefined ? (scheme === "inproc" ? 0 : 8786) : Number(m[3]);
  if (port > 65535) throw new TypeError(`port out of range in ${JSON.stringify(address)}`);
  return { scheme, host: m[2].replace(/^\[|\]$/g, "") || "127.0.0.1", port };
}
