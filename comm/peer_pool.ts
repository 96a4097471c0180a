/** Connections to peers for fetching values (worker to worker, client to worker), reused. */
import { Connection } from "./connection.ts";
import type { Dialer } from "./handshake.ts";
import { sendHello } from "./handshake.ts";
import { fromEnvelope } from "../core/errors.ts";
import type { Payload } from "./serialize.ts";
import { BUSY_RETRY_FIRST, BUSY_RETRY_MAX, PEER_CONNECT_TIMEOUT } from "./timeouts.ts";

/** Keeps one connection per peer address and fetches values over it. */
export class PeerPool {
  #conns = new Map<string, Promise<Connection>>();
  #closed = false;
  /** Waits before asking a busy worker again, ended early by `close`. */
  readonly #waits = new Set<() => void>();

  constructor(
    private readonly dial: Dialer,
    private readonly name: string,
    private readonly token?: string,
    private readonly timeoutMs = PEER_CONNECT_TIMEOUT,
  ) {}

  /**
   * Fetches `keys` from `address`; keys it does not hold are absent from the result. A worker
   * short of memory may answer in batches (it names the keys left for `more` requests) or say
   * it is busy (paused and already sending): this asks again until every key it holds came.
   */
  async getData(address: string, keys: string[]): Promise<Record<string, Payload>> {
    let got: Record<string, Payload> | undefined;
    let wait = BUSY_RETRY_FIRST;
    while (keys.length) {
      const conn = await this.#connect(address);
      const reply = await conn.request({ op: "get-data", id: 0, keys });
      if (reply.busy) {
        await this.#pause(wait);
        wait = Math.min(2 * wait, BUSY_RETRY_MAX);
        continue;
      }
      if (!reply.more?.length) return got ? Object.assign(got, reply.values) : reply.values;
      // a batch always carries a value: an empty one would have us ask forever
      if (Object.keys(reply.values).length === 0) break;
      got = Object.assign(got ?? {}, reply.values);
      keys = reply.more;
    }
    return got ?? {};
  }

  #pause(ms: number): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("peer pool is closed"));
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const stop = () => {
      clearTimeout(timer);
      this.#waits.delete(stop);
      reject(new Error("peer pool is closed"));
    };
    const timer = setTimeout(() => {
      this.#waits.delete(stop);
      resolve();
    }, ms);
    this.#waits.add(stop);
    return promise;
  }

  /** Gives `address` values to keep (scatter); rejects when it refuses or is gone. */
  async putData(address: string, values: Record<string, Payload>): Promise<void> {
    const conn = await this.#connect(address);
    const reply = await conn.request({ op: "put-data", id: 0, values });
    if (reply.e) throw fromEnvelope(reply.e);
  }

  #connect(address: string): Promise<Connection> {
    if (this.#closed) return Promise.reject(new Error("peer pool is closed"));
    let p = this.#conns.get(address);
    if (!p) {
      p = (async () => {
        const t = await this.dial(address);
        try {
          await sendHello(t, { role: "peer", name: this.name, token: this.token }, this.timeoutMs);
        } catch (e) {
          t.close();
          throw e;
        }
        const conn = new Connection(t);
        conn.start(() => conn.close("a peer connection only carries replies"));
        conn.closed.then(() => {
          if (this.#conns.get(address) === p) this.#conns.delete(address);
        });
        return conn;
      })();
      p.catch(() => this.#conns.delete(address));
      this.#conns.set(address, p);
    }
    return p;
  }

  /** Closes every peer connection. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const stop of [...this.#waits]) stop();
    const all = [...this.#conns.values()];
    this.#conns.clear();
    for (const p of all) {
      try {
        const c = await p;
        c.close("closing");
        await c.finished();
      } catch { /* never connected */ }
    }
  }
}
