/**
 * The transport contract, public so that other transports can be plugged in with
 * `registerDialer`: a Dialer opens a Transport to an address, and a Transport carries batches
 * of protocol messages both ways. dtask's own transports (tcp://, tls://, inproc://) fit it.
 */

/**
 * A duplex stream of message batches between two dtask peers. The messages are plain objects of
 * dtask's protocol: a transport carries them as they are (encoding them as it needs).
 */
export interface Transport {
  /** Where the other end is, as an address string. */
  readonly peer: string;
  /** Writes one batch; rejects when the stream is closed. */
  writeBatch(batch: unknown[]): Promise<void>;
  /** Reads the next batch; `null` at the end of the stream. Throws on malformed input. */
  readBatch(): Promise<unknown[] | null>;
  /** Closes both directions; idempotent. */
  close(): void;
}

/**
 * Opens a Transport to an address (`scheme://…`); registered per scheme with `registerDialer`.
 * `options.tls.caCerts` are the CA certificates (PEM) a tls:// dial trusts besides the system's.
 */
export type Dialer = (
  address: string,
  options?: { tls?: { caCerts?: string[] } },
) => Promise<Transport>;
