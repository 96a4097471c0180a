/**
 * The peer side of a worker's actor: the connections of peers (workers fetching dependencies,
 * clients gathering or scattering), their `put-data` checked against what the scheduler announced
 * (`expect-data`), and their `get-data` answered by the state machine, from memory or disk.
 * Called from the actor's `receive` only.
 *
 * @module
 */
import { Connection } from "../comm/connection.ts";
import { feedMessages } from "../actor/mailbox.ts";
import {
  expectOps,
  type GetData,
  type Message,
  PEER_REQUEST_OPS,
  type PutData,
} from "../comm/protocol.ts";
import type { Transport } from "../comm/transport.ts";
import type { ServedData } from "./data_server.ts";
import { ExpectedData } from "./expected_data.ts";
import type { WorkerStateMachine } from "./state.ts";
import type { PeerMessage, WorkerStimulus } from "./stimulus.ts";

/** What the peer side needs from the actor around it. */
export interface PeerRequestsHost {
  /** The worker's address, named when it refuses a put-data. */
  readonly address: string;
  log(line: string): void;
  post(s: WorkerStimulus): void;
  /** The state machine, once registered. */
  state(): WorkerStateMachine | undefined;
  /** Whether the worker is closing. */
  closing(): boolean;
}

/** Peers' connections and requests. */
export class PeerRequests {
  /** The open connections of peers and clients. */
  readonly conns = new Set<Connection>();
  /** Keys the scheduler said a client will scatter here. */
  readonly expected = new ExpectedData();
  /** get-data requests being answered (they may wait for values read back from disk). */
  readonly #serving = new Map<number, { conn: Connection; id: number }>();
  #next = 0;

  constructor(private readonly host: PeerRequestsHost) {}

  /** A peer's handshake succeeded: its requests flow in through the actor's `receive`. */
  admitted(t: Transport): void {
    const host = this.host;
    if (host.closing()) return t.close();
    const conn = new Connection(t, host.log);
    this.conns.add(conn);
    conn.closed.then(() => host.post({ kind: "peer-closed", conn }));
    const m: PeerMessage = { kind: "peer-message", conn, msg: null };
    feedMessages(conn, m, (s) => host.post(s));
  }

  /** A request of the peer on `conn`: get-data, or put-data from a client scattering. */
  message(msg: Message, conn: Connection): void {
    const m = expectOps<GetData | PutData>(msg, PEER_REQUEST_OPS, "a peer");
    const state = this.host.state();
    if (m.op === "put-data") return this.#putData(m, conn, state);
    if (!state) return conn.send({ op: "data", id: m.id, values: {} });
    const req = this.#next++;
    this.#serving.set(req, { conn, id: m.id });
    let sending = 0;
    for (const c of this.conns) if (c !== conn && c.queuedBytes > 0) sending++;
    state.serveData(req, m.keys, sending);
  }

  /** The answer to a get-data: values (and keys for another request), or busy. */
  served(req: number, answer: ServedData): void {
    const to = this.#serving.get(req);
    if (!to) return;
    this.#serving.delete(req);
    to.conn.send({ op: "data", id: to.id, values: {}, ...answer });
  }

  #putData(m: PutData, conn: Connection, state: WorkerStateMachine | undefined): void {
    const unexpected = !state || this.host.closing()
      ? undefined
      : this.expected.take(Object.keys(m.values), performance.now());
    if (unexpected === undefined) {
      conn.send({ op: "ack", id: m.id, e: { name: "CommClosedError", message: "closing" } });
    } else if (unexpected !== null) {
      const message = `${this.host.address} refused put-data: the scheduler did not ` +
        `announce ${JSON.stringify(unexpected.slice(0, 100))}; values reach a worker only ` +
        `through client.scatter`;
      conn.send({ op: "ack", id: m.id, e: { name: "ProtocolError", message } });
    } else {
      state!.holdReplicas(m.values);
      conn.send({ op: "ack", id: m.id });
    }
  }
}
