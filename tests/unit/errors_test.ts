import assert from "node:assert/strict";
import {
  ActorLostError,
  CancelledError,
  CommClosedError,
  DtaskError,
  type ErrorEnvelope,
  fromEnvelope,
  KilledWorker,
  LeaseError,
  ProtocolError,
  ScopeError,
  SerializationError,
  SpillError,
  TimeoutError,
  TlsError,
  toEnvelope,
  WrongRoleError,
} from "../../core/errors.ts";

const CLASSES = [
  CancelledError,
  KilledWorker,
  TimeoutError,
  CommClosedError,
  ProtocolError,
  SerializationError,
  SpillError,
  LeaseError,
  ActorLostError,
] as const;

/** What an envelope looks like after a trip over the wire (plain JSON-like data only). */
const overWire = (env: ErrorEnvelope): ErrorEnvelope => JSON.parse(JSON.stringify(env));

Deno.test("each dtask error class has its name, marker and instanceof", () => {
  for (const C of CLASSES) {
    const e = new C("boom");
    assert.equal(e.name, C.name);
    assert.equal(e.message, "boom");
    assert.ok(e instanceof C && e instanceof DtaskError && e instanceof Error);
    assert.equal((e as any)[Symbol.for(`dtask.error.${C.name}`)], true);
    assert.equal((e as any)[Symbol.for("dtask.error.DtaskError")], true);
    assert.match(String(e.stack), new RegExp(`^${C.name}: boom`));
    for (const Other of CLASSES) if (Other !== C) assert.ok(!(e instanceof Other));
  }
  assert.ok(!(new Error("x") instanceof DtaskError));
  for (const x of [null, undefined, "TimeoutError", 1] as unknown[]) {
    assert.ok(!((x as object) instanceof TimeoutError));
  }
});

Deno.test("instanceof holds after an envelope round trip, for every class", () => {
  for (const C of [...CLASSES, ScopeError, DtaskError]) {
    const original = C === ScopeError
      ? new ScopeError("np", "f")
      : new (C as typeof TimeoutError)("m");
    const back = fromEnvelope(overWire(toEnvelope(original)));
    assert.ok(back instanceof C, C.name);
    assert.ok(back instanceof DtaskError && back instanceof Error);
    assert.equal(back.name, original.name);
    assert.equal(back.message, original.message);
    assert.equal(back.remoteStack, original.stack);
  }
});

Deno.test("a marked object from another copy of dtask passes instanceof", () => {
  const foreign = { [Symbol.for("dtask.error.KilledWorker")]: true, name: "KilledWorker" };
  assert.ok(foreign instanceof KilledWorker);
  assert.ok(!(foreign instanceof TimeoutError));
});

Deno.test("WrongRoleError is a ProtocolError saying what answered, also after a round trip", () => {
  const e = new WrongRoleError("wrong", "worker", "tcp://s:8786");
  for (const x of [e, fromEnvelope(overWire(toEnvelope(e)))]) {
    assert.ok(x instanceof WrongRoleError && x instanceof ProtocolError && x instanceof DtaskError);
    assert.ok(!(new ProtocolError("p") instanceof WrongRoleError));
    assert.equal(x.name, "WrongRoleError");
    assert.equal((x as WrongRoleError).found, "worker");
    assert.equal((x as WrongRoleError).use, "tcp://s:8786");
  }
  assert.equal("use" in new WrongRoleError("m", "HTTP server"), false);
});

Deno.test("TlsError is a ProtocolError, also after a round trip", () => {
  const e = new TlsError("the TLS certificate of tls://h:1 is not trusted");
  for (const x of [e, fromEnvelope(overWire(toEnvelope(e)))]) {
    assert.ok(x instanceof TlsError && x instanceof ProtocolError && x instanceof DtaskError);
    assert.equal(x.name, "TlsError");
  }
  assert.ok(!(new ProtocolError("p") instanceof TlsError));
});

Deno.test("user subclasses of dtask errors use ordinary instanceof", () => {
  class SlowStart extends TimeoutError {}
  const e = new SlowStart("late");
  assert.ok(e instanceof SlowStart && e instanceof TimeoutError && e instanceof DtaskError);
  assert.ok(!(new TimeoutError("x") instanceof SlowStart));
});

Deno.test("envelope keeps name, message, stack, cause chain and extra fields", () => {
  const root = new RangeError("root cause");
  const middle = new CommClosedError("connection lost", { cause: root });
  const top = Object.assign(new Error("task failed", { cause: middle }), { code: "E_TASK", n: 3 });
  const env = overWire(toEnvelope(top));
  assert.equal(env.name, "Error");
  assert.equal(env.code, "E_TASK");
  const back = fromEnvelope(env);
  assert.equal(back.message, "task failed");
  assert.equal(back.code, "E_TASK");
  assert.equal(back.n, 3);
  assert.equal(back.remoteStack, top.stack);
  assert.equal(back.stack, top.stack, "the stack shown is the remote one");
  assert.ok(back.cause instanceof CommClosedError);
  const c = back.cause as CommClosedError & { remoteStack: string; cause: unknown };
  assert.equal(c.message, "connection lost");
  assert.equal(c.remoteStack, middle.stack);
  assert.ok(c.cause instanceof RangeError);
  assert.equal((c.cause as Error).message, "root cause");
});

Deno.test("built-in error types are rebuilt as themselves, unknown names kept", () => {
  for (const C of [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    const back = fromEnvelope(toEnvelope(new C("m")));
    assert.ok(back instanceof C);
    assert.equal(back.name, C.name);
  }
  class ValidationError extends Error {
    override name = "ValidationError";
  }
  const back = fromEnvelope(toEnvelope(new ValidationError("bad input")));
  assert.ok(back instanceof Error);
  assert.equal(back.name, "ValidationError");
  assert.equal(back.message, "bad input");
  assert.match(String(back), /^ValidationError: bad input/);
  const agg = fromEnvelope(
    overWire(toEnvelope(new AggregateError([new TypeError("a"), 5], "all"))),
  );
  assert.ok(agg instanceof AggregateError);
  assert.equal(agg.message, "all");
  assert.ok(agg.errors[0] instanceof TypeError);
  assert.equal(agg.errors[1], 5);
});

Deno.test("non-Error throwables become envelopes and Errors", () => {
  const cases: [unknown, string, string][] = [
    ["boom", "Error", "boom"],
    [42, "Error", "42"],
    [undefined, "Error", "undefined"],
    [null, "Error", "null"],
    [Symbol("s"), "Error", "Symbol(s)"],
    [10n, "Error", "10"],
    [{ code: 3 }, "Error", '{"code":3}'],
    [{ name: "HttpError", message: "404", status: 404 }, "HttpError", "404"],
  ];
  for (const [thrown, name, message] of cases) {
    const env = toEnvelope(thrown);
    assert.equal(env.name, name);
    assert.equal(env.message, message);
    JSON.stringify(env); // plain data
    const back = fromEnvelope(overWire(env));
    assert.ok(back instanceof Error);
    assert.equal(back.name, name);
    assert.equal(back.message, message);
  }
  assert.deepEqual(fromEnvelope(toEnvelope({ code: 3 })).thrown, { code: 3 });
  assert.equal(fromEnvelope(toEnvelope("boom")).thrown, "boom");
});

Deno.test("envelopes are plain data even for odd fields and circular causes", () => {
  const e = new Error("odd") as Error & Record<string, unknown>;
  e.fn = function helper() {};
  e.sym = Symbol("x");
  e.big = 2n ** 70n;
  e.nested = { list: [new Map([[1, 2]]), new Uint8Array(3)], self: null };
  e.cause = e;
  const env = toEnvelope(e);
  assert.deepEqual(structuredClone(env), env);
  assert.equal(env.fn, "[function helper]");
  assert.equal(env.sym, "Symbol(x)");
  assert.equal(env.big, "1180591620717411303424n");
  assert.equal(env.cause, "[Circular]");
  const loop: Record<string, unknown> = {};
  loop.loop = loop;
  assert.doesNotThrow(() => JSON.stringify(toEnvelope(Object.assign(new Error("x"), { loop }))));
});

Deno.test("ScopeError names the variable and says what to do", () => {
  const e = new ScopeError("np", "analyse");
  assert.equal(e.name, "ScopeError");
  assert.equal(e.variable, "np");
  for (
    const part of ['"analyse"', '"np"', "argument", "await import(", "absolute URL", "preload"]
  ) {
    assert.ok(e.message.includes(part), `message mentions ${part}: ${e.message}`);
  }
  const back = fromEnvelope(overWire(toEnvelope(e)));
  assert.ok(back instanceof ScopeError);
  assert.equal(back.variable, "np");
});

Deno.test("fromEnvelope tolerates malformed input", () => {
  for (const bad of [42, null, {}, { name: 5, message: "m" }, "text"]) {
    const e = fromEnvelope(bad);
    assert.ok(e instanceof Error);
    assert.equal(typeof e.message, "string");
  }
  const e = new TimeoutError("already an error");
  assert.equal(fromEnvelope(e), e);
  const tricky = fromEnvelope({ name: "Error", message: "m", __proto__x: 1, constructor: 2 });
  assert.equal(Object.getPrototypeOf(tricky), Error.prototype);
});
