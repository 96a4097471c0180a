/**
 * A transport that is still being opened: writes and reads wait until it is open (handshake
 * done), so a Client can be handed out synchronously (`getClient()` inside a task).
 */
import type { Message } from "./protocol.ts";
import type { Transport } from "./transport.ts";

/** Wraps a transport that `opening` resolves to; a failure to open fails every read and write. */
export class PendingTransport implements Transport {
  readonly peer: string;
  #opening: Promise<Transport>;
  #t: Transport | null = null;
  #closed = false;
  #unref = false;

  constructor(peer: string, opening: Promise<Transport>) {
    this.peer = peer;
    this.#opening = opening.then((t) => {
      if (this.#closed) t.close();
      if (this.#unref) t.unref?.();
      return this.#t = t;
    });
    this.#opening.catch(() => {}); // reported by the first read or write
  }

  async writeBatch(batch: Message[]): Promise<void> {
    const t = this.#t ?? await this.#opening;
    return t.writeBatch(batch);
  }

  async readBatch(): Promise<unknown[] | null> {
    const t = this.#t ?? await this.#opening;
    return t.readBatch();
  }

  close(): void {
    this.#closed = true;
    this.#t?.close();
  }

  unref(): void {
    this.#unref = true;
    this.#t?.unref?.();
  }
}
