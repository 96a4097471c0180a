import assert from "node:assert/strict";
import {
  checkFunctionSource,
  compileFunction,
  functionKind,
  scopeErrorFrom,
} from "../../core/compile.ts";
import { ScopeError } from "../../core/errors.ts";

Deno.test("checkFunctionSource accepts arrows, function expressions and classes", () => {
  const add = (a: number, b: number) => a + b;
  const inc = async (x: number) => {
    await null;
    return x + 1;
  };
  const one = (x: number) => x;
  const named = function double(x: number) {
    return 2 * x;
  };
  async function fetchIt(u: string) {
    return await Promise.resolve(u);
  }
  class Counter {
    n = 0;
    inc() {
      return ++this.n;
    }
  }
  for (
    const [fn, name] of [[add, "add"], [inc, "inc"], [one, "one"], [named, "double"], [
      fetchIt,
      "fetchIt",
    ], [Counter, "Counter"]] as const
  ) {
    const got = checkFunctionSource(fn);
    assert.equal(got.name, name);
    assert.equal(got.source, Function.prototype.toString.call(fn));
  }
});

Deno.test("checkFunctionSource recognises arrows with tricky parameter lists", () => {
  const sources = [
    '(a = "(", b = ")") => a + b',
    "(a = `${(1)}`, b = [1, (2)]) => a + b",
    "async (x) => x",
    "async x => x",
    "async => async",
    "x=>x",
    "(x /* ) */, y // )\n) => x",
    "({ a, b: [c] }) => a + c",
    "async(x) => x",
  ];
  for (const s of sources) assert.equal(functionKind(s), "arrow", s);
  assert.equal(functionKind("function (x) { return x }"), "function");
  assert.equal(functionKind("async function f() {}"), "function");
  assert.equal(functionKind("function* g() {}"), "function");
  assert.equal(functionKind("class A {}"), "class");
});

Deno.test("checkFunctionSource rejects bound and native functions", () => {
  const f = (x: number) => x;
  assert.throws(() => checkFunctionSource(f.bind(null, 1)), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /bound function "bound f"/);
    assert.match(e.message, /as arguments/);
    return true;
  });
  assert.throws(() => checkFunctionSource(Math.max), /native function "max".*native code/);
  assert.throws(() => checkFunctionSource(parseInt), /native function/);
  assert.throws(
    () => checkFunctionSource(42 as unknown as () => void),
    /expected a function to run, got number/,
  );
});

Deno.test("checkFunctionSource rejects method shorthand with advice", () => {
  const o = {
    f(x: number) {
      return x;
    },
    async g(x: number) {
      return await Promise.resolve(x);
    },
    *gen() {
      yield 1;
    },
    async(x: number) {
      return x;
    },
    ["comp" + "uted"](x: number) {
      return x;
    },
    get p() {
      return 1;
    },
  };
  const getter = Object.getOwnPropertyDescriptor(o, "p")!.get!;
  const rec = o as unknown as Record<string, () => unknown>;
  for (const fn of [o.f, o.g, o.gen, o.async, rec.computed, getter]) {
    assert.throws(() => checkFunctionSource(fn), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /method shorthand/);
      assert.match(e.message, /arrow function or a function expression/);
      return true;
    });
  }
  assert.throws(() => checkFunctionSource(o.f), /function "f"/);
});

Deno.test("compileFunction compiles arrows and function expressions", async () => {
  assert.equal(compileFunction("add", "(a, b) => a + b")(2, 3), 5);
  assert.equal(await compileFunction("inc", "async (x) => { await null; return x + 1 }")(1), 2);
  assert.equal(compileFunction("double", "function double(x) { return 2 * x }")(4), 8);
  assert.equal(await compileFunction("f", "async function f(x) { return -x }")(4), -4);
  // A trailing line comment does not swallow the wrapper.
  assert.equal(compileFunction("id", "x => x // the identity")(7), 7);
  // The source of a real function round trips.
  const { name, source } = checkFunctionSource((xs: number[]) => xs.reduce((a, b) => a + b, 0));
  assert.equal(compileFunction(name, source)([1, 2, 3]), 6);
});

Deno.test("compileFunction shadows worker globals and runs in strict mode", () => {
  const fn = compileFunction(
    "probe",
    "() => [typeof name, typeof close, typeof postMessage, typeof self, typeof onmessage, " +
      "typeof onerror, typeof globalThis]",
  );
  assert.deepEqual(fn(), [
    "undefined",
    "undefined",
    "undefined",
    "undefined",
    "undefined",
    "undefined",
    "object",
  ]);
  // A parameter may still use a shadowed name.
  assert.equal(compileFunction("f", "(name) => name")("x"), "x");
  assert.throws(() => compileFunction("sloppy", "() => { undeclared = 1 }")(), ReferenceError);
});

Deno.test("compileFunction fails clearly on bad sources", () => {
  assert.throws(() => compileFunction("f", "f(x) { return x }"), /method shorthand/);
  assert.throws(() => compileFunction("g", "(x) => {"), (e: Error) => {
    assert.ok(e instanceof SyntaxError);
    assert.match(e.message, /cannot compile function "g"/);
    return true;
  });
  assert.throws(() => compileFunction("n", "1 + 1"), /cannot compile function "n": .*not a/);
  assert.throws(() => compileFunction("m", "function max() { [native code] }"), /native/);
});

Deno.test("compiled functions carry a dtask-fn: source URL in their stacks", () => {
  const fn = compileFunction("boom", '() => { throw new Error("x") }');
  assert.throws(() => fn(), (e: Error) => {
    assert.match(e.stack ?? "", /dtask-fn:boom/);
    return true;
  });
});

Deno.test("scopeErrorFrom turns a free variable into a ScopeError", async () => {
  const fn = compileFunction("useSecret", "() => secret + 1");
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  const err = scopeErrorFrom(caught, "useSecret");
  assert.ok(err instanceof ScopeError);
  assert.equal((err as ScopeError).variable, "secret");
  assert.match(err.message, /task function "useSecret" uses "secret"/);
  assert.match(err.message, /as an argument/);
  assert.match(err.message, /await import/);
  assert.match(err.message, /preload/);
  assert.equal(err.cause, caught);
  assert.match(err.stack ?? "", /^ScopeError: .*\n\s+at .*dtask-fn:useSecret/);

  // After an await too.
  const later = compileFunction("later", "async () => { await null; return missing }");
  const e2 = await (later() as Promise<unknown>).catch((e: unknown) => e);
  assert.ok(scopeErrorFrom(e2, "later") instanceof ScopeError);
});

Deno.test("scopeErrorFrom passes other errors through unchanged", () => {
  const plain = new TypeError("nope");
  assert.equal(scopeErrorFrom(plain, "f"), plain);
  assert.equal(scopeErrorFrom("a string", "f"), "a string");
  const tdz = compileFunction("tdz", "() => { x; let x = 1 }");
  let caught: unknown;
  try {
    tdz();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ReferenceError);
  assert.equal(scopeErrorFrom(caught, "tdz"), caught);
  // Raised outside a compiled task function (e.g. in an imported module): unchanged.
  const foreign = new ReferenceError("zz is not defined");
  assert.equal(scopeErrorFrom(foreign, "f"), foreign);
});
