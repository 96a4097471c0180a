/**
 * Every dtask error class, and the envelope errors travel in between processes and threads.
 *
 * Error classes lose their identity over `postMessage` and the wire, so errors travel as an
 * {@link ErrorEnvelope} and are rebuilt by {@link fromEnvelope}. Each dtask class marks its
 * instances with `Symbol.for("dtask.error.<Name>")` and checks that marker in
 * `Symbol.hasInstance`, so `instanceof` also holds for errors made by another copy of dtask.
 * Browser-safe: no `Deno.*`, no `node:` imports.
 * @module
 */

/** An error as plain data: `name`, `message`, the remote `stack`, `cause`, and extra fields. */
export type ErrorEnvelope = {
  name: string;
  message: string;
  stack?: string;
  cause?: ErrorEnvelope | unknown;
  [field: string]: unknown;
};

/** An error rebuilt from an envelope: `remoteStack` holds the stack where it was thrown. */
export type RemoteError = Error & { remoteStack?: string; [field: string]: unknown };

type ErrorClass = abstract new (...args: any[]) => Error;
const markers = new Map<ErrorClass, symbol>();
const classesByName = new Map<string, ErrorClass>();

/** The base class of every dtask error. */
export class DtaskError extends Error {
  /** Matches instances by their `Symbol.for("dtask.error.<Name>")` marker. */
  static override [Symbol.hasInstance](x: unknown): boolean {
    const mark = markers.get(this);
    if (mark === undefined) return Function.prototype[Symbol.hasInstance].call(this, x);
    return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[mark] === true;
  }
}

/** The task or Future was cancelled (by the user, a restart, or lost scattered data). */
export class CancelledError extends DtaskError {}

/** The task was running on more workers that died than `allowedFailures` allows. */
export class KilledWorker extends DtaskError {}

/** An operation did not finish within its timeout. */
export class TimeoutError extends DtaskError {}

/** The connection to a peer closed (or was never open). */
export class CommClosedError extends DtaskError {}

/** A peer sent something the protocol does not allow (bad handshake, frame, header or op). */
export class ProtocolError extends DtaskError {}

/**
 * An address answered as something other than what was dialled: a worker's peer port where the
 * scheduler was expected (or the reverse), an HTTP server, a TLS server. Permanent: dialling it
 * again gets the same answer. The message names what answered and, when known, where to go.
 */
export class WrongRoleError extends ProtocolError {
  /** What answered: "scheduler", "worker", "HTTP server" or "TLS server". */
  declare readonly found: string;
  /** The address to connect to instead, when the answer named one. */
  declare readonly use?: string;
  /** `found`: what answered; `use`: the address to use instead, if known. */
  constructor(message: string, found: string, use?: string, options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, "found", { value: found, enumerable: true });
    if (use !== undefined) Object.defineProperty(this, "use", { value: use, enumerable: true });
  }
}

/**
 * A TLS handshake failed: the peer's certificate is not trusted or not valid for its host, or the
 * peer does not speak TLS. Permanent: dialling again gets the same answer. The message says what
 * to give (the cluster's CA with `tls.caCerts` or `--tls-ca-file`, or a tcp:// address).
 */
export class TlsError extends ProtocolError {}

/** A value cannot be encoded or decoded; the message names the argument path. */
export class SerializationError extends DtaskError {}

/**
 * A task argument is an instance of a class with methods, which would reach the task as a plain
 * object without them; the message names the argument's path and the class, and what to do.
 */
export class ClassInstanceError extends SerializationError {}

/** A task function used a name from its enclosing scope; the message says what to do instead. */
export class ScopeError extends DtaskError {
  /** The free variable the function used. */
  declare readonly variable: string;
  /** Builds the message from the variable's name and, when known, the function's name. */
  constructor(variable: string, fnName?: string, options?: ErrorOptions) {
    const fn = fnName ? `task function "${fnName}"` : "a task function";
    super(
      `${fn} uses "${variable}" from its enclosing scope, which does not travel with the ` +
        `function: pass "${variable}" as an argument, or import it inside the function with ` +
        '`await import("...")` using an absolute URL or an import-map name, or preload its ' +
        "module (cluster option `preload`, `client.preload(url)`, worker `--preload`)",
      options,
    );
    Object.defineProperty(this, "variable", { value: variable, enumerable: true });
  }
}

/** A named thing (a published dataset) is missing or already exists (Dask's KeyError). */
export class KeyError extends DtaskError {}

/** Writing a value to the worker's spill directory, or reading it back, failed (disk full...). */
export class SpillError extends DtaskError {}

/**
 * A Lock, MultiLock or Semaphore was used in a way its state does not allow (Dask raises
 * RuntimeError or ValueError): released more often than acquired, or a Semaphore's name given
 * another `maxLeases` than it has.
 */
export class LeaseError extends DtaskError {}

/**
 * An actor's instance is gone: the worker holding it was lost (Dask's "Worker holding Actor was
 * lost"), or it was restarted on another worker and a call in flight lost its state with it.
 */
export class ActorLostError extends DtaskError {}

function register(cls: ErrorClass, name: string): void {
  const mark = Symbol.for(`dtask.error.${name}`);
  markers.set(cls, mark);
  classesByName.set(name, cls);
  Object.defineProperty(cls.prototype, mark, { value: true });
  Object.defineProperty(cls.prototype, "name", { value: name, writable: true, configurable: true });
}
register(DtaskError, "DtaskError");
register(CancelledError, "CancelledError");
register(KilledWorker, "KilledWorker");
register(TimeoutError, "TimeoutError");
register(CommClosedError, "CommClosedError");
register(ProtocolError, "ProtocolError");
register(WrongRoleError, "WrongRoleError");
register(TlsError, "TlsError");
register(SerializationError, "SerializationError");
register(ClassInstanceError, "ClassInstanceError");
register(ScopeError, "ScopeError");
register(KeyError, "KeyError"); // cluster-wide calls
register(SpillError, "SpillError");
register(LeaseError, "LeaseError");
register(ActorLostError, "ActorLostError");

const builtins: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};
const RESERVED = new Set(["name", "message", "stack", "cause", "remoteStack"]);
const MAX_DEPTH = 16;

/** Whether `e` is an Error (also one from another realm). */
export function isError(e: unknown): e is Error {
  return e instanceof Error || Object.prototype.toString.call(e) === "[object Error]";
}

/** Turns anything thrown (an Error, a string, an object...) into an envelope of plain data. */
export function toEnvelope(e: unknown): ErrorEnvelope {
  return envelopeOf(e, new Set(), 0);
}

function envelopeOf(e: unknown, seen: Set<unknown>, depth: number): ErrorEnvelope {
  if (!isError(e)) return thrownEnvelope(e, seen, depth);
  seen.add(e);
  const err = e as Error & Record<string, unknown>;
  const env: ErrorEnvelope = {
    name: typeof err.name === "string" ? err.name : "Error",
    message: typeof err.message === "string" ? err.message : String(err.message),
  };
  if (typeof err.stack === "string") env.stack = err.stack;
  if ("cause" in err) env.cause = causeOf(err.cause, seen, depth + 1);
  const aggregate = e instanceof AggregateError && Array.isArray(e.errors);
  for (const k of Object.keys(err)) {
    if (!RESERVED.has(k) && !(aggregate && k === "errors")) env[k] = plain(err[k], seen, depth + 1);
  }
  if (aggregate) env.errors = (e as AggregateError).errors.map((x) => causeOf(x, seen, depth + 1));
  return env;
}

function thrownEnvelope(e: unknown, seen: Set<unknown>, depth: number): ErrorEnvelope {
  if (typeof e !== "object" || e === null) {
    const text = typeof e === "symbol" ? e.toString() : String(e);
    return { name: "Error", message: text, thrown: plain(e, seen, depth) };
  }
  const o = e as Record<string, unknown>;
  const env: ErrorEnvelope = {
    name: typeof o.name === "string" ? o.name : "Error",
    message: typeof o.message === "string" ? o.message : describe(o),
    thrown: plain(o, seen, depth + 1),
  };
  if (typeof o.stack === "string") env.stack = o.stack;
  return env;
}

function describe(o: object): string {
  try {
    const json = JSON.stringify(o);
    if (json !== undefined && json !== "{}") return json;
  } catch { /* fall back to String() */ }
  try {
    return String(o);
  } catch {
    return "[object]";
  }
}

function causeOf(c: unknown, seen: Set<unknown>, depth: number): unknown {
  if (seen.has(c) && typeof c === "object" && c !== null) return "[Circular]";
  if (depth > MAX_DEPTH) return "[too deep]";
  return isError(c) ? envelopeOf(c, seen, depth) : plain(c, seen, depth);
}

/** Reduces a value to data any msgpack encoder accepts (informational, may be lossy). */
function plain(v: unknown, seen: Set<unknown>, depth: number): unknown {
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
    case "undefined":
      return v;
    case "bigint":
      return `${v}n`;
    case "symbol":
      return v.toString();
    case "function":
      return `[function ${v.name || "anonymous"}]`;
  }
  if (v === null) return null;
  if (seen.has(v)) return "[Circular]";
  if (depth > MAX_DEPTH) return "[too deep]";
  if (isError(v)) return envelopeOf(v, seen, depth);
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => plain(x, seen, depth + 1));
    if (v instanceof Map || v instanceof Set) return plain([...v], seen, depth);
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return Object.prototype.toString.call(v);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object)) {
      Object.defineProperty(out, k, {
        value: plain((v as Record<string, unknown>)[k], seen, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  } catch {
    return "[unreadable]";
  } finally {
    seen.delete(v);
  }
}

function isEnvelope(x: unknown): x is ErrorEnvelope {
  return typeof x === "object" && x !== null && typeof (x as ErrorEnvelope).name === "string" &&
    typeof (x as ErrorEnvelope).message === "string";
}

/** Rebuilds an Error from an envelope: original name and message, `remoteStack`, `cause`. */
export function fromEnvelope(env: ErrorEnvelope | unknown): RemoteError {
  return rebuild(env, 0);
}

function rebuild(env: unknown, depth: number): RemoteError {
  if (isError(env)) return env as RemoteError;
  if (!isEnvelope(env)) return rebuild(toEnvelope(env), depth);
  const { name, message } = env;
  const cls = classesByName.get(name) ?? builtins[name];
  let err: RemoteError;
  if (name === "AggregateError") {
    const list = Array.isArray(env.errors) ? env.errors : [];
    const errors = list.map((x) => isEnvelope(x) ? rebuild(x, depth + 1) : x);
    err = new AggregateError(errors, message) as unknown as RemoteError;
  } else {
    const base = cls === undefined || classesByName.has(name) ? Error : cls;
    err = Reflect.construct(base, [message], cls ?? Error) as RemoteError;
    if (cls === undefined) define(err, "name", name, false);
  }
  if (typeof env.stack === "string") {
    define(err, "stack", env.stack, false);
    define(err, "remoteStack", env.stack, false);
  }
  if ("cause" in env) {
    const c = env.cause;
    define(err, "cause", isEnvelope(c) && depth < MAX_DEPTH ? rebuild(c, depth + 1) : c, false);
  }
  for (const k of Object.keys(env)) {
    if (RESERVED.has(k) || (k === "errors" && err instanceof AggregateError)) continue;
    define(err, k, env[k], true);
  }
  return err;
}

function define(o: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(o, key, { value, enumerable, writable: true, configurable: true });
}
