/** In-process transport: batches handed across by reference, no encoding. */
import type { Message } from "./protocol.ts";
import type { Listener, Transport } from "./transport.ts";
import { CommClosedError } from "../core/errors.ts";

/** One end of an in-process pipe. */
class InprocEnd implements Transport {
  other!: InprocEnd;
  #queue: unknown[][] = [];
  #waiter: ((b: unknown[] | null) => void) | null = null;
  #closed = false;

  constructor(readonly peer: string) {}

  writeBatch(batch: Message[]): Promise<void> {
    if (this.#closed || this.other.#closed) {
      return Promise.reject(new CommClosedError(`in-process stream to ${this.peer} is closed`));
    }
    this.other.#deliver(batch);
    return Promise.resolve();
  }

  #deliver(batch: unknown[] | null): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = null;
      w(batch);
    } else if (batch) this.#queue.push(batch);
  }

  readBatch(): Promise<unknown[] | null> {
    if (this.#queue.length) return Promise.resolve(this.#queue.shift()!);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deliver(null);
    this.other.#closed = true;
    this.other.#deliver(null);
  }
}

/** Creates two connected in-process transports. */
export function inprocPair(aName: string, bName: string): [Transport, Transport] {
  const a = new InprocEnd(bName), b = new InprocEnd(aName);
  a.other = b;
  b.other = a;
  return [a, b];
}

const listeners = new Map<string, (t: Transport) => void>();
let counter = 0;

/** Listens on a fresh `inproc://` address in this process. */
export function listenInproc(onAccept: (t: Transport) => void, name?: string): Listener {
  const address = `inproc://${name ?? `dtask-${++counter}`}`;
  if (listeners.has(address)) throw new Error(`${address} is already listening`);
  listeners.set(address, onAccept);
  return {
    address,
    close() {
      listeners.delete(address);
      return Promise.resolve();
    },
  };
}

/** Connects to an `inproc://` address in this process. */
export function connectInproc(address: string): Transport {
  const accept = listeners.get(address);
  if (!accept) throw new CommClosedError(`nothing listens at ${address} in this process`);
  const [mine, theirs] = inprocPair(address, `inproc://client-${++counter}`);
  accept(theirs);
  return mine;
}
