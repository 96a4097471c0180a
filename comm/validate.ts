/**
 * Shape checks of every message at the edge of a stream, so nothing a peer sends can reach a
 * state machine with fields of the wrong type. One switch and a few `typeof`s per message.
 */
import { type Hello, type Message, OPS, type Role } from "./protocol.ts";
import { Payload } from "./serialize.ts";
import { ProtocolError } from "./errors.ts";

type Obj = Record<string, unknown>;

const ROLES: ReadonlySet<string> = new Set<Role>(["client", "worker", "peer"]);

/** A plain object (what msgpack maps and records decode to; not a Map, array or Payload). */
function isObj(v: unknown): v is Obj {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
const isStr = (v: unknown): v is string => typeof v === "string";
/** A number that is not NaN (priorities may be infinite). */
const isNum = (v: unknown): v is number => typeof v === "number" && v === v;
const isSize = (v: unknown): v is number => Number.isFinite(v) && (v as number) >= 0;
const isNat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const optStr = (v: unknown) => v === undefined || isStr(v);
const optPayload = (v: unknown) => v === undefined || v instanceof Payload;

function strs(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") return false;
  return true;
}

function nums(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isNum(v[i])) return false;
  return true;
}

function each(v: unknown, ok: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!ok(v[i])) return false;
  return true;
}

function values(v: unknown, ok: (x: unknown) => boolean): boolean {
  if (!isObj(v)) return false;
  for (const k in v) if (!ok(v[k])) return false;
  return true;
}

const envelope = (v: unknown) => isObj(v) && isStr(v.name) && isStr(v.message);
const functionDef = (v: unknown) => isObj(v) && isStr(v.h) && isStr(v.n) && isStr(v.s);
const optFunctionDef = (v: unknown) => v === undefined || functionDef(v);
// cluster-wide calls (i4-cluster)
const isPayload = (v: unknown) => v instanceof Payload;
const eventRecord = (v: unknown) =>
  Array.isArray(v) && v.length === 2 && isNum(v[0]) && v[1] instanceof Payload;

function taskSpec(v: unknown): boolean {
  if (!isObj(v) || !isStr(v.k) || !isStr(v.f) || !(v.a instanceof Payload) || !strs(v.d)) {
    return false;
  }
  if (v.p !== undefined && !isNum(v.p)) return false;
  if (v.r !== undefined && !isNat(v.r)) return false;
  if (v.w !== undefined && !strs(v.w)) return false;
  if (v.lo !== undefined && typeof v.lo !== "boolean") return false;
  // in-task (issue 4)
  if (v.rs !== undefined && !values(v.rs, (x) => isSize(x))) return false;
  if (v.ps !== undefined && !isStr(v.ps)) return false;
  return !(v.d as string[]).includes(v.k); // a task cannot wait for itself
}

const isIndex = (v: unknown, below: number) =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v < below;

/** Columns of plain tasks: lengths agree, offsets ascend, indices are in range, no self-wait. */
function plainTasks(v: unknown): boolean {
  if (!isObj(v) || !strs(v.k) || !strs(v.f)) return false;
  if (!(v.a instanceof Payload) || v.a.frames.length !== 0) return false;
  if (!Array.isArray(v.ae) || !strs(v.d)) return false;
  const k = v.k as string[], f = v.f as string[], ae = v.ae as unknown[], d = v.d as string[];
  const n = k.length;
  if (ae.length !== n || (n > 0 && f.length === 0)) return false;
  const fi = v.fi, dc = v.dc, di = v.di;
  if (fi !== undefined && (!Array.isArray(fi) || fi.length !== n)) return false;
  if (dc !== undefined && (!Array.isArray(dc) || dc.length !== n || !Array.isArray(di))) {
    return false;
  }
  if (dc === undefined && di !== undefined) return false;
  let end = 0, at = 0;
  for (let i = 0; i < n; i++) {
    const e = ae[i];
    if (!isIndex(e, v.a.header.length + 1) || (e as number) < end) return false;
    end = e as number;
    if (fi !== undefined && !isIndex(fi[i], f.length)) return false;
    if (dc === undefined) continue;
    const c = dc[i];
    if (!isIndex(c, Infinity) || at + c > (di as unknown[]).length) return false;
    for (const stop = at + c; at < stop; at++) {
      const j = (di as unknown[])[at];
      if (!isIndex(j, d.length) || d[j as number] === k[i]) return false; // no self-wait
    }
  }
  return dc === undefined || at === (di as unknown[]).length;
}

/** Whether `v` is a WorkerInfo a scheduler can rely on. */
export function isWorkerInfo(v: unknown): boolean {
  return isObj(v) && isStr(v.address) && v.address.length > 0 && isStr(v.name) &&
    isNat(v.nthreads) && v.nthreads >= 1 && isSize(v.memoryLimit) &&
    isNum(v.pid) && (v.resources === undefined || values(v.resources, isNum)) &&
    (v.nanny === undefined || typeof v.nanny === "boolean");
}

/** Returns the first wrong field of a message with a known op, or null when it is well formed. */
function badField(m: Obj): string | null {
  const op = m.op as Message["op"];
  switch (op) {
    case "hello":
      if (!isNum(m.version)) return "version";
      if (!isStr(m.role) || !ROLES.has(m.role)) return "role";
      if (!isStr(m.name)) return "name";
      if (!optStr(m.token)) return "token";
      if (m.worker !== undefined && !isWorkerInfo(m.worker)) return "worker";
      if (!optStr(m.resume)) return "resume";
      return m.role === "worker" && m.worker === undefined ? "worker" : null;
    case "welcome":
      if (!isNum(m.version)) return "version";
      if (!isStr(m.address)) return "address";
      return optStr(m.id) ? null : "id";
    case "refused":
      return isStr(m.reason) ? null : "reason";
    case "update-graph":
      if (!each(m.tasks, taskSpec)) return "tasks";
      if (m.plain !== undefined && !plainTasks(m.plain)) return "plain";
      if (!strs(m.wanted)) return "wanted";
      if (m.fifo !== undefined && !(isNum(m.fifo) && m.fifo >= 0)) return "fifo";
      return m.functions === undefined || each(m.functions, functionDef) ? null : "functions";
    case "release-keys":
    case "request-values":
    case "free-keys":
      return strs(m.keys) ? null : "keys";
    case "scheduler-info":
    case "has-what":
      return isNum(m.id) ? null : "id";
    case "who-has":
      if (!isNum(m.id)) return "id";
      return strs(m.keys) ? null : "keys";
    case "wait-for-workers":
      if (!isNum(m.id)) return "id";
      if (!isNat(m.n)) return "n";
      return isSize(m.timeout) ? null : "timeout";
    case "who-has-reply":
      if (!isNum(m.id)) return "id";
      return values(m.whoHas, strs) ? null : "whoHas";
    case "has-what-reply":
      if (!isNum(m.id)) return "id";
      return values(m.hasWhat, strs) ? null : "hasWhat";
    case "wait-for-workers-reply":
      if (!isNum(m.id)) return "id";
      if (!isNat(m.n)) return "n";
      return optStr(m.error) ? null : "error";
    case "close-client":
      return null;
    case "key-in-memory":
      if (!isStr(m.k)) return "k";
      if (!strs(m.w)) return "w";
      return optPayload(m.v) ? null : "v";
    case "key-erred":
      if (!isStr(m.k)) return "k";
      if (!envelope(m.e)) return "e";
      return isStr(m.blame) ? null : "blame";
    case "keys-cancelled":
      if (!strs(m.keys)) return "keys";
      return isStr(m.reason) ? null : "reason";
    case "scheduler-info-reply":
      if (!isNum(m.id)) return "id";
      if (!isStr(m.address)) return "address";
      return values(m.workers, isWorkerInfo) ? null : "workers";
    case "compute-task":
      if (!isStr(m.k)) return "k";
      if (!isStr(m.f)) return "f";
      if (!optFunctionDef(m.fn)) return "fn";
      if (!(m.a instanceof Payload)) return "a";
      if (!values(m.d, strs)) return "d";
      if (!nums(m.p)) return "p";
      return m.r === undefined || typeof m.r === "boolean" ? null : "r";
    case "close-worker":
      if (m.restart !== undefined && typeof m.restart !== "boolean") return "restart";
      return isStr(m.reason) ? null : "reason";
    // fault tolerance (i5)
    case "restart":
      if (!isNum(m.id)) return "id";
      return isSize(m.timeout) ? null : "timeout";
    case "scheduler-closing":
      return isStr(m.reason) ? null : "reason";
    case "worker-exited":
      if (!isStr(m.address)) return "address";
      return isStr(m.how) ? null : "how";
    case "retire-workers":
      if (!isNum(m.id)) return "id";
      return strs(m.workers) ? null : "workers";
    case "task-finished":
      if (!isStr(m.k)) return "k";
      if (!isSize(m.nbytes)) return "nbytes";
      if (!isNum(m.start)) return "start";
      if (!isNum(m.stop)) return "stop";
      return optPayload(m.v) ? null : "v";
    case "task-erred":
      if (!isStr(m.k)) return "k";
      if (!envelope(m.e)) return "e";
      if (!isNum(m.start)) return "start";
      return isNum(m.stop) ? null : "stop";
    case "missing-data":
      if (!isStr(m.k)) return "k";
      if (!isStr(m.key)) return "key";
      return isStr(m.worker) ? null : "worker";
    case "heartbeat":
      if (!isNum(m.memory)) return "memory";
      if (!isNum(m.executing)) return "executing";
      if (!isNum(m.ready)) return "ready";
      return isNum(m.stored) ? null : "stored";
    case "get-data":
      if (!isNum(m.id)) return "id";
      return strs(m.keys) ? null : "keys";
    case "data":
      if (!isNum(m.id)) return "id";
      return values(m.values, (v) => v instanceof Payload) ? null : "values";
    // cluster-wide calls (i4-cluster)
    case "run":
      if (!isNum(m.id)) return "id";
      if (!functionDef(m.fn)) return "fn";
      if (!(m.a instanceof Payload)) return "a";
      return m.scheduler === undefined || typeof m.scheduler === "boolean" ? null : "scheduler";
    case "run-reply":
      if (!isNum(m.id)) return "id";
      if (!optPayload(m.v)) return "v";
      if (m.results !== undefined && !values(m.results, isPayload)) return "results";
      return m.e === undefined || envelope(m.e) ? null : "e";
    case "replicate":
      if (!isNum(m.id)) return "id";
      if (!strs(m.keys)) return "keys";
      return m.n === undefined || isNat(m.n) ? null : "n";
    case "rebalance":
      if (!isNum(m.id)) return "id";
      return m.keys === undefined || strs(m.keys) ? null : "keys";
    case "publish-dataset":
      if (!isNum(m.id)) return "id";
      if (!isStr(m.name)) return "name";
      if (!(m.v instanceof Payload)) return "v";
      return strs(m.keys) ? null : "keys";
    case "get-dataset":
      if (!isNum(m.id)) return "id";
      if (!isStr(m.name)) return "name";
      return m.timeout === undefined || isSize(m.timeout) ? null : "timeout";
    case "list-datasets":
    case "get-task-stream":
      if (!isNum(m.id)) return "id";
      return m.start === undefined || isNum(m.start) ? null : "start";
    case "unpublish-dataset":
      if (!isNum(m.id)) return "id";
      return isStr(m.name) ? null : "name";
    case "log-event":
      if (!strs(m.topics)) return "topics";
      return m.msg instanceof Payload ? null : "msg";
    case "get-events":
      if (!isNum(m.id)) return "id";
      return optStr(m.topic) ? null : "topic";
    case "subscribe-topic":
    case "unsubscribe-topic":
      return isStr(m.topic) ? null : "topic";
    case "ack":
      if (!isNum(m.id)) return "id";
      return m.e === undefined || envelope(m.e) ? null : "e";
    case "dataset-reply":
      if (!isNum(m.id)) return "id";
      if (!optPayload(m.v)) return "v";
      if (m.keys !== undefined && !strs(m.keys)) return "keys";
      return m.e === undefined || envelope(m.e) ? null : "e";
    case "list-datasets-reply":
      if (!isNum(m.id)) return "id";
      return strs(m.names) ? null : "names";
    case "events-reply":
      if (!isNum(m.id)) return "id";
      return values(m.events, (v) => each(v, eventRecord)) ? null : "events";
    case "topic-event":
      if (!isStr(m.topic)) return "topic";
      if (!isNum(m.time)) return "time";
      return m.msg instanceof Payload ? null : "msg";
    case "task-stream-reply": {
      if (!isNum(m.id)) return "id";
      if (!strs(m.keys)) return "keys";
      const n = (m.keys as string[]).length;
      if (!strs(m.workers) || (m.workers as string[]).length !== n) return "workers";
      if (!nums(m.starts) || (m.starts as number[]).length !== n) return "starts";
      if (!nums(m.stops) || (m.stops as number[]).length !== n) return "stops";
      return nums(m.ok) && (m.ok as number[]).length === n ? null : "ok";
    }
    case "acquire-replicas":
      if (!isNum(m.id)) return "id";
      return values(m.who, strs) ? null : "who";
    case "acquire-replicas-reply":
      if (!isNum(m.id)) return "id";
      return strs(m.keys) ? null : "keys";
    // work stealing (i4-steal)
    case "steal-request":
      return isStr(m.k) ? null : "k";
    case "steal-response":
      if (!isStr(m.k)) return "k";
      return m.state === null || isStr(m.state) ? null : "state";
    // in-task (issue 4)
    case "preload":
      return strs(m.urls) ? null : "urls";
    case "long-running":
      return isStr(m.k) ? null : "k";
    // graph, scatter, cancel, retry (i4-graph)
    case "cancel-keys":
      if (!strs(m.keys)) return "keys";
      return m.force === undefined || typeof m.force === "boolean" ? null : "force";
    case "retry-keys":
    case "fire-and-forget":
      return strs(m.keys) ? null : "keys";
    case "scatter":
      if (!isNum(m.id)) return "id";
      if (!strs(m.keys)) return "keys";
      if (
        !each(m.nbytes, isSize) || (m.nbytes as number[]).length !== (m.keys as string[]).length
      ) {
        return "nbytes";
      }
      if (m.workers !== undefined && !strs(m.workers)) return "workers";
      if (m.broadcast !== undefined && typeof m.broadcast !== "boolean") return "broadcast";
      return m.timeout === undefined || isSize(m.timeout) ? null : "timeout";
    case "scatter-plan":
      if (!isNum(m.id)) return "id";
      if (!values(m.who, strs)) return "who";
      return m.e === undefined || envelope(m.e) ? null : "e";
    case "update-data":
      if (!values(m.who, strs)) return "who";
      return values(m.nbytes, isSize) ? null : "nbytes";
    case "expect-data":
      if (!isNum(m.id)) return "id";
      return strs(m.keys) ? null : "keys";
    case "put-data":
      if (!isNum(m.id)) return "id";
      return values(m.values, isPayload) ? null : "values";
    default: {
      const never: never = op;
      return `op ${String(never)}`;
    }
  }
}

/** A short, safe description of any value for error messages. */
export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.slice(0, 80));
  if (typeof v === "bigint") return `${v}n`;
  if (v === undefined) return "undefined";
  if (typeof v === "object" && v !== null) return Array.isArray(v) ? "an array" : "an object";
  return typeof v === "function" || typeof v === "symbol" ? typeof v : String(v);
}

/** Checks that a decoded value is a well-formed message dtask knows; throws ProtocolError. */
export function validateMessage(m: unknown): Message {
  if (!isObj(m)) {
    throw new ProtocolError(
      `a message must be an object, got ${Array.isArray(m) ? "an array" : describe(m)}`,
    );
  }
  const op = m.op;
  if (typeof op !== "string" || !OPS.has(op)) {
    throw new ProtocolError(`unknown op ${describe(op)}`);
  }
  const bad = badField(m);
  if (bad !== null) {
    throw new ProtocolError(`malformed ${op} message: field ${bad} is missing or has a wrong type`);
  }
  return m as unknown as Message;
}

/** Checks a hello (after its version matched); throws ProtocolError. */
export function validateHello(m: unknown): Hello {
  const msg = validateMessage(m);
  if (msg.op !== "hello") throw new ProtocolError(`the first message was ${msg.op}, not a hello`);
  return msg;
}
