/** Connections to peers for fetching values (worker to worker, client to worker), reused. */
import { Connection } from "./connection.ts";
import type { Dialer } from "./handshake.ts";
import { sendHello } from "./handshake.ts";
import { fromEnvelope } from "../core/errors.ts";
import type { Payload } from "./serialize.ts";
import { PEER_CONNECT_TIMEOUT } from "./timeouts.ts";

/** Keeps one connection per peer address and fetches values over it. */
export class PeerPool {
  #conns = new Map<string, Promise<Connection>>();
  #closed = false;

  constructor(
    private readonly dial: Dialer,
    private readonly name: string,
    private readonly token?: string,
    private readonly timeoutMs = PEER_CONNECT_TIMEOUT,
  ) {}

  /** Fetches `keys` from `address`; keys it does not hold are absent from the result. */
  async getData(address: string, keys: string[]): Promise<Record<string, Payload>> {
    const conn = await this.#connect(address);
    const reply = await conn.request({ op: "get-data", id: 0, keys });
    return reply.values;
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
