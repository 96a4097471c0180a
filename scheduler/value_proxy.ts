/**
 * The value proxy: for a client that cannot reach the workers itself (one connected over
 * WebSocket from a browser or Deno Deploy), the scheduler fetches values from a worker
 * (`gather-values`) or hands them to one (`scatter-values`) over its own peer connections, and
 * answers on the client's connection, large buffers as frames. Only connected workers are
 * dialled: the scheduler is no relay to arbitrary addresses.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import { dial, type DialOptions } from "../comm/dial.ts";
import { PeerPool } from "../comm/peer_pool.ts";
import type { GatherValues, ScatterValues } from "../comm/protocol.ts";
import { CommClosedError, toEnvelope } from "../core/errors.ts";

/** What the proxy reads of the scheduler. */
export interface ValueProxyHost {
  /** The token workers' peer ports ask for (the cluster's). */
  readonly token: string | undefined;
  /** Whether a worker at `address` is connected (the only addresses the proxy dials). */
  connected(address: string): boolean;
  /** Whether its peer connections hold the program open. */
  readonly keepAlive: boolean;
  /** How it dials workers: on a TLS cluster, the CA certificates their tls:// ports present. */
  readonly dialing: DialOptions;
}

/** The scheduler's side of proxied gather and scatter. */
export class ValueProxy {
  #pool: PeerPool | null = null;
  #closed = false;

  constructor(readonly host: ValueProxyHost) {}

  get #peers(): PeerPool {
    const keepAlive = this.host.keepAlive;
    return this.#pool ??= new PeerPool(
      (a) => dial(a, this.host.dialing).then((t) => (keepAlive || t.unref?.(), t)),
      "scheduler",
      this.host.token,
    );
  }

  /** Answers `gather-values` on `conn`: the values the worker had (none when it is gone). */
  gather(conn: Connection, m: GatherValues): void {
    const id = m.id;
    if (this.#closed || !this.host.connected(m.worker)) {
      conn.send({ op: "gathered-values", id, values: {} });
      return;
    }
    this.#peers.getData(m.worker, m.keys).then(
      (values) => conn.send({ op: "gathered-values", id, values }),
      () => conn.send({ op: "gathered-values", id, values: {} }),
    ).catch(() => {/* the client is gone */});
  }

  /** Answers `scatter-values` on `conn` with `ack`, its error when the worker did not take them. */
  scatter(conn: Connection, m: ScatterValues): void {
    const id = m.id;
    if (this.#closed || !this.host.connected(m.worker)) {
      const e = new CommClosedError(`no worker at ${m.worker} is connected to the scheduler`);
      conn.send({ op: "ack", id, e: toEnvelope(e) });
      return;
    }
    this.#peers.putData(m.worker, m.values).then(
      () => conn.send({ op: "ack", id }),
      (e) => conn.send({ op: "ack", id, e: toEnvelope(e) }),
    ).catch(() => {/* the client is gone */});
  }

  /** Closes the peer connections. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.close();
  }
}
