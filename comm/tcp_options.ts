/**
 * The options of one TCP (or TLS) transport, as a dialler or a listener gives them, and the
 * check of its stall timeout. Plain data: no Deno APIs.
 *
 * @module
 */
import { DEFAULT_STALL_TIMEOUT } from "./limits.ts";

/** Options of one TCP transport. */
export interface TcpOptions {
  /** Largest frame accepted, in bytes (default 1 GiB). */
  maxFrame?: number;
  /**
   * Ms a peer may send nothing in the middle of a packet before the connection is dropped
   * (default 30 s; Infinity: never). Idle time between packets is not limited.
   */
  stallTimeout?: number;
  /** Called once: when the first packet has been read whole, or at close if that comes first. */
  onFirstPacket?: () => void;
  /**
   * What this port is and where to go instead, the body of the 400 answer to an HTTP request
   * that reaches it (default: that it is a dtask TCP port).
   */
  describePort?: () => string;
  /** The connection does not hold the program open (see `Transport.unref`). */
  unref?: boolean;
  /** The scheme `peer` is shown with: "tls" for a TLS connection (default "tcp"). */
  scheme?: "tcp" | "tls";
}

/** The stall timeout an options object asks for, checked. */
export function stallTimeoutOf(opts: TcpOptions): number {
  const ms = opts.stallTimeout ?? DEFAULT_STALL_TIMEOUT;
  if (!(ms > 0)) {
    throw new RangeError(
      `stallTimeout must be a positive number of ms (Infinity: never), got ${ms}`,
    );
  }
  return ms;
}
