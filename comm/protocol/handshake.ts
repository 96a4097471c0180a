/**
 * The handshake channel: the first message on every connection (`hello`) and its answer
 * (`welcome`, or `refused` before the connection closes).
 */
import { isNum, isStr, optStr } from "./fields.ts";
import { isWorkerInfo, type WorkerInfo } from "./common.ts";
import { message, type Table } from "./spec.ts";

/** The protocol version; a peer with another one is refused at the handshake. */
export const PROTOCOL_VERSION = 1;

/** Who opens a connection. */
export type Role = "client" | "worker" | "peer";

const ROLES: ReadonlySet<string> = new Set<Role>(["client", "worker", "peer"]);

/** Who answers a connection: the scheduler, or a worker (its peer port). */
export type ListenerRole = "scheduler" | "worker";

const LISTENER_ROLES: ReadonlySet<string> = new Set<ListenerRole>(["scheduler", "worker"]);

/** The role that answers each role's hello: a client and a worker dial the scheduler. */
export const ANSWERED_BY: Readonly<Record<Role, ListenerRole>> = {
  client: "scheduler",
  worker: "scheduler",
  peer: "worker",
};

/** First message on every connection. */
export interface Hello {
  op: "hello";
  version: number;
  role: Role;
  name: string;
  token?: string;
  /** Required of a worker. */
  worker?: WorkerInfo;
  /** A client reconnecting: the id it had, so the scheduler gives it back its wanted keys. */
  resume?: string;
  /**
   * A client made inside a task: the address of the worker it runs in. What it holds (locks,
   * semaphore leases) is released when that worker is removed.
   */
  inWorker?: string;
}

/** Handshake accepted. */
export interface Welcome {
  op: "welcome";
  version: number;
  /** Who answered. */
  role: ListenerRole;
  /** The scheduler's (or peer's) own address. */
  address: string;
  /** Client id assigned by the scheduler. */
  id?: string;
  /** The scheduler's dashboard URL, told to clients (none: it serves no dashboard). */
  dashboard?: string;
}

/** Handshake refused; the connection closes after it. */
export interface Refused {
  op: "refused";
  reason: string;
  /** Set when the hello's role is not one this end serves: what this end is. */
  wrongRole?: ListenerRole;
  /** With `wrongRole`: the address that serves the hello's role, when this end knows it. */
  use?: string;
}

/** Handshake messages. */
export type HandshakeMessage = Hello | Welcome | Refused;

/** The handshake's messages, either way. */
export const HANDSHAKE: Table<HandshakeMessage> = {
  hello: message<Hello>((m) => {
    if (!isNum(m.version)) return "version";
    if (!isStr(m.role) || !ROLES.has(m.role)) return "role";
    if (!isStr(m.name)) return "name";
    if (!optStr(m.token)) return "token";
    if (m.worker !== undefined && !isWorkerInfo(m.worker)) return "worker";
    if (!optStr(m.resume)) return "resume";
    if (!optStr(m.inWorker)) return "inWorker";
    return m.role === "worker" && m.worker === undefined ? "worker" : null;
  }),
  welcome: message<Welcome>((m) => {
    if (!isNum(m.version)) return "version";
    if (!isStr(m.role) || !LISTENER_ROLES.has(m.role)) return "role";
    if (!isStr(m.address)) return "address";
    if (!optStr(m.dashboard)) return "dashboard";
    return optStr(m.id) ? null : "id";
  }),
  refused: message<Refused>((m) => {
    if (!isStr(m.reason)) return "reason";
    if (m.wrongRole !== undefined && !LISTENER_ROLES.has(m.wrongRole as string)) {
      return "wrongRole";
    }
    return optStr(m.use) ? null : "use";
  }),
};
