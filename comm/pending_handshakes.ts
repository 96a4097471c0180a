/**
 * The connections a listener accepted that have not sent their first packet (the handshake)
 * yet: at most `max` of them, the oldest dropped when another comes, so that a flood of idle
 * connections cannot lock out a real handshake (which takes milliseconds). The TCP and the
 * WebSocket listeners share it.
 *
 * @module
 */
import { DEFAULT_MAX_UNAUTHENTICATED } from "./limits.ts";

/** A connection the gate may drop: its peer's name, and how it is dropped. */
export interface Droppable {
  readonly peer: string;
  /** Closes it; its reads fail saying `reason`. */
  drop(reason: string): void;
}

/** The accepted connections still waiting for their first packet, oldest first. */
export class PendingHandshakes<T extends Droppable> {
  readonly #waiting = new Set<T>();

  /** Throws a RangeError when `max` is not a positive integer. */
  constructor(readonly max: number = DEFAULT_MAX_UNAUTHENTICATED) {
    if (!(Number.isInteger(max) && max > 0)) {
      throw new RangeError(`maxUnauthenticated must be a positive integer, got ${max}`);
    }
  }

  /**
   * Counts connection `t` as waiting for its first packet, dropping the oldest waiting one when
   * `max` are waiting already. Returns what to call once its first packet is in (or it closed).
   *
   * @example
   * ```ts ignore
   * const t = new TcpTransport(conn, { onFirstPacket: () => settled() });
   * const settled = pending.admit(t);
   * ```
   */
  admit(t: T): () => void {
    if (this.#waiting.size >= this.max) {
      const oldest = this.#waiting.values().next().value!;
      this.#waiting.delete(oldest);
      oldest.drop(
        `dropped ${oldest.peer} before its handshake: ${this.max} connections were waiting to ` +
          `send theirs and it was the oldest (raise the listener's maxUnauthenticated if that ` +
          `many real peers connect at once)`,
      );
    }
    this.#waiting.add(t);
    return () => this.#waiting.delete(t);
  }
}
