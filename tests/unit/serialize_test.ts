import assert from "node:assert/strict";
import {
  arrowMissed,
  decodeValue,
  decodeValueAsync,
  encodeValue,
  encodeValueAsync,
  encodeValueSoon,
  fillLateTables,
  FRAME_THRESHOLD,
  type LateTable,
  loadArrow,
  Payload,
  Ref,
} from "../../comm/serialize.ts";
import { SerializationError, TimeoutError } from "../../core/errors.ts";

const rt = <T>(v: T): T => decodeValue(encodeValue(v)) as T;
const same = (a: unknown, b: unknown) =>
  assert.ok(Object.is(a, b), `${String(a)} is not ${String(b)}`);

Deno.test("primitives round-trip, including -0, NaN and lone surrogates", () => {
  for (const v of [null, true, false, 0, 1, -1, 127, 128, -33, 2 ** 31, -(2 ** 31) - 1, 2 ** 53]) {
    same(rt(v), v);
  }
  for (const v of [1.5, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE]) {
    same(rt(v), v);
  }
  for (const v of ["", "a", "héllo 😀", "x".repeat(70_000), "\ud800", "a\udc00b", "😀\ud83d"]) {
    same(rt(v), v);
  }
  same(rt(undefined), undefined);
});

Deno.test("BigInt of any size and sign keeps its type", () => {
  const values = [0n, 5n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n];
  values.push(2n ** 200n + 12345n, -(2n ** 200n) - 1n, -(10n ** 300n), 10n ** 1000n);
  for (const v of values) same(rt(v), v);
  assert.equal(typeof rt(2 ** 40), "number");
  assert.equal(typeof rt(1n), "bigint");
});

Deno.test("arrays and objects, nested, with undefined and holes", () => {
  const v = {
    a: [1, "two", [3, [4, { five: 5 }]], null, undefined, -0, NaN],
    o: { u: undefined, n: null, deep: { deeper: { deepest: ["x"] } } },
    empty: { arr: [], obj: {} },
    "key with spaces": 1,
    "": "empty key",
    2: "numeric key",
  };
  const out = rt(v);
  assert.deepEqual(out, v);
  assert.ok("u" in out.o, "an undefined field keeps its key");
  same(out.a[5], -0);
  // Holes come back as undefined (the array stays dense).
  // deno-lint-ignore no-sparse-arrays
  const sparse = rt([1, , 3]);
  assert.deepEqual(sparse, [1, undefined, 3]);
  assert.ok(1 in sparse);
  // Extra properties of an array are dropped.
  const withProp = Object.assign([1, 2], { extra: true });
  assert.deepEqual(rt(withProp), [1, 2]);
});

Deno.test("class instances arrive as plain objects of their own fields", () => {
  class Point {
    x = 1;
    y = [2];
    get z() {
      return 3;
    }
    norm() {
      return 0;
    }
  }
  const out = rt(new Point()) as unknown as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(out, { x: 1, y: [2] });
  const bare = Object.assign(Object.create(null), { a: 1 });
  assert.deepEqual({ ...rt(bare) }, { a: 1 });
  assert.deepEqual(rt({ [Symbol("s")]: 1, k: 2 }), { k: 2 }); // symbol keys are dropped
  assert.equal(rt(new Number(4) as unknown), 4); // boxed primitives are unboxed
  assert.equal(rt(new String("s") as unknown), "s");
});

Deno.test("a __proto__ key cannot change the decoded prototype", () => {
  const out = rt(JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}')) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(out.a, 1); // msgpackr renames the key to "__proto_" (documented limitation)
});

Deno.test("Map (object keys, nested), Set, Date, RegExp", () => {
  const k = { id: 1 };
  const m = new Map<unknown, unknown>([
    [k, "object key"],
    ["s", new Map([[1, new Set([1, "a", { b: 2 }])]])],
    [2n, undefined],
    [undefined, null],
    [NaN, [1]],
  ]);
  const out = rt(m);
  assert.ok(out instanceof Map);
  assert.deepEqual(out, m);
  assert.deepEqual([...out.keys()][0], { id: 1 });
  const set = rt(new Set([1, "1", 1n, { a: 1 }, [1]]));
  assert.ok(set instanceof Set);
  assert.deepEqual(set, new Set([1, "1", 1n, { a: 1 }, [1]]));
  for (const d of [new Date(0), new Date(8.64e15), new Date(-8.64e15), new Date(1.5)]) {
    const back = rt(d);
    assert.ok(back instanceof Date);
    assert.equal(back.getTime(), d.getTime());
  }
  assert.ok(Number.isNaN(rt(new Date(NaN)).getTime()));
  const re = rt(/a+b/gimsuy);
  assert.ok(re instanceof RegExp);
  assert.equal(re.source, "a+b");
  assert.equal(re.flags, "gimsuy");
});

Deno.test("Errors inside values keep name, message, cause, fields and class", () => {
  const cause = new RangeError("inner");
  const e = Object.assign(new Error("outer", { cause }), { code: "E_X" });
  class MyError extends Error {
    override name = "MyError";
  }
  const out = rt({ e, mine: new MyError("m"), t: new TimeoutError("slow") });
  assert.ok(out.e instanceof Error);
  assert.equal(out.e.message, "outer");
  assert.equal(out.e.code, "E_X");
  assert.ok(out.e.cause instanceof RangeError);
  assert.equal((out.e.cause as Error).message, "inner");
  assert.equal(out.mine.name, "MyError");
  assert.equal(out.mine.message, "m");
  assert.ok(out.t instanceof TimeoutError);
  assert.equal(out.t.message, "slow");
});

const KINDS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  ...("Float16Array" in globalThis ? [(globalThis as any).Float16Array] : []),
];

function filled(K: any, n: number): any {
  const a = new K(n);
  const big = K === BigInt64Array || K === BigUint64Array;
  for (let i = 0; i < n; i++) a[i] = big ? BigInt(i * 7 % 100) : (i * 7) % 100;
  return a;
}

Deno.test("typed arrays of each kind keep their type, small and large", () => {
  for (const K of KINDS) {
    for (const n of [0, 3, FRAME_THRESHOLD / K.BYTES_PER_ELEMENT + 5]) {
      const a = filled(K, n);
      const p = encodeValue(a);
      assert.equal(p.frames.length, a.byteLength >= FRAME_THRESHOLD ? 1 : 0, `${K.name}(${n})`);
      const back = decodeValue(p) as any;
      assert.equal(back.constructor, K);
      assert.deepEqual(back, a);
    }
  }
  class MyBytes extends Uint8Array {}
  const sub = rt(new MyBytes([1, 2]));
  assert.equal(sub.constructor, Uint8Array);
  assert.deepEqual([...sub], [1, 2]);
});

Deno.test("views with an offset, ArrayBuffer and DataView round-trip", () => {
  const buf = new ArrayBuffer(64);
  const view = new Int32Array(buf, 8, 3);
  view.set([7, -8, 9]);
  const back = rt(view);
  assert.equal(back.constructor, Int32Array);
  assert.deepEqual([...back], [7, -8, 9]);
  const ab = rt(new Uint8Array([1, 2, 3]).buffer);
  assert.ok(ab instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(ab)], [1, 2, 3]);
  const dv = new DataView(new ArrayBuffer(16), 4, 8);
  dv.setFloat64(0, Math.PI);
  const dvBack = rt(dv);
  assert.ok(dvBack instanceof DataView);
  assert.equal(dvBack.byteLength, 8);
  assert.equal(dvBack.getFloat64(0), Math.PI);
  const big = new ArrayBuffer(FRAME_THRESHOLD + 8);
  new Uint8Array(big)[100] = 5;
  const p = encodeValue({ big, dv: new DataView(big, 1) });
  assert.equal(p.frames.length, 2);
  const out = decodeValue(p) as { big: ArrayBuffer; dv: DataView };
  assert.ok(out.big instanceof ArrayBuffer);
  assert.equal(new Uint8Array(out.big)[100], 5);
  assert.equal(out.dv.getUint8(99), 5);
});

Deno.test("large buffers go into frames without copies and come back as views", () => {
  const a = filled(Float64Array, 20_000);
  const p = encodeValue({ a, also: a, list: [1, 2] });
  assert.equal(p.frames.length, 1, "the same buffer twice is one frame");
  assert.ok(p.header.byteLength < 100, `header has ${p.header.byteLength} bytes`);
  assert.equal(p.frames[0].buffer, a.buffer, "the frame is a view on the caller's buffer");
  assert.equal(p.nbytes, p.header.byteLength + a.byteLength);
  const out = decodeValue(p) as { a: Float64Array; also: Float64Array };
  assert.equal(out.a.constructor, Float64Array);
  assert.deepEqual(out.a, a);
  assert.deepEqual(out.also, a);
  assert.equal(out.a.buffer, p.frames[0].buffer, "decoded as a view on the frame");
  // A frame that is not aligned for the element type is copied, keeping type and values.
  const shifted = new Uint8Array(a.byteLength + 3);
  shifted.set(p.frames[0], 3);
  const moved = decodeValue(new Payload(p.header, [shifted.subarray(3)])) as { a: Float64Array };
  assert.equal(moved.a.constructor, Float64Array);
  assert.notEqual(moved.a.buffer, shifted.buffer);
  assert.deepEqual(moved.a, a);
  // The threshold is exact.
  assert.equal(encodeValue(new Uint8Array(FRAME_THRESHOLD - 1)).frames.length, 0);
  assert.equal(encodeValue(new Uint8Array(FRAME_THRESHOLD)).frames.length, 1);
});

Deno.test("Refs: objects named by refKey are replaced, deps collected, input untouched", () => {
  class FutureLike {
    constructor(readonly key: string) {}
    then() {}
  }
  const f1 = new FutureLike("inc-1"), f2 = new FutureLike("inc-2");
  const input = { a: [1, f1], m: new Map<unknown, unknown>([[f2, f1]]), s: new Set([f2]), x: 3 };
  const deps = new Set<string>();
  const refKey = (o: object) => o instanceof FutureLike ? o.key : undefined;
  const p = encodeValue(input, { refKey, deps, path: "argument 1" });
  assert.deepEqual([...deps].sort(), ["inc-1", "inc-2"]);
  assert.equal(input.a[1], f1);
  assert.equal([...input.m.keys()][0], f2);
  assert.equal([...input.s][0], f2);
  const raw = decodeValue(p) as typeof input;
  assert.deepEqual(raw.a, [1, new Ref("inc-1")]);
  const resolved = decodeValue(p, (k) => `value of ${k}`) as any;
  assert.deepEqual(resolved, {
    a: [1, "value of inc-1"],
    m: new Map([["value of inc-2", "value of inc-1"]]),
    s: new Set(["value of inc-2"]),
    x: 3,
  });
  const explicit = new Set<string>();
  encodeValue([new Ref("k-1")], { deps: explicit });
  assert.deepEqual([...explicit], ["k-1"]);
  assert.deepEqual(decodeValue(encodeValue(f1, { refKey })), new Ref("inc-1"));
});

Deno.test("an error thrown by resolveRef propagates unchanged", () => {
  const p = encodeValue([new Ref("gone")]);
  const boom = new Error("no such key");
  assert.throws(() =>
    decodeValue(p, () => {
      throw boom;
    }), (e) => e === boom);
});

Deno.test("values that cannot be sent fail with the argument path", () => {
  const cyclic: Record<string, unknown> = { a: [1] };
  (cyclic.a as unknown[]).push(cyclic);
  let deep: unknown = 1;
  for (let i = 0; i < 600; i++) deep = [deep];
  const cases: [unknown, string][] = [
    [
      { items: [1, 2, 3, () => 1] },
      "argument 1 .items[3] is a function: functions cannot be sent as data",
    ],
    [() => 1, "argument 1 is a function: functions cannot be sent as data"],
    [Symbol("s"), "argument 1 is a symbol: symbols cannot be sent"],
    [
      { p: Promise.resolve(1) },
      "argument 1 .p is a Promise or thenable: await it first, or pass a Future",
    ],
    [{ "a b": [new WeakMap()] }, 'argument 1 ["a b"][0] is a WeakMap: it cannot be sent as data'],
    [[new WeakSet()], "argument 1 [0] is a WeakSet: it cannot be sent as data"],
    [{ r: new WeakRef({}) }, "argument 1 .r is a WeakRef: it cannot be sent as data"],
    [
      new Map([["k", new Map([[1, Symbol()]])]]),
      'argument 1 .get("k").values()[0] is a symbol: symbols cannot be sent',
    ],
    [
      new Map([[() => 1, 1]]),
      "argument 1 .keys()[0] is a function: functions cannot be sent as data",
    ],
    [
      new Set([1, { f: Math.max }]),
      "argument 1 .values()[1].f is a function: functions cannot be sent as data",
    ],
    [cyclic, "argument 1 .a[1] is a circular reference: values must not contain themselves"],
    [(function* () {})(), "argument 1 is a Generator: it cannot be sent as data"],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => encodeValue(value, { path: "argument 1" }), (e) => {
      assert.ok(e instanceof SerializationError);
      assert.equal((e as Error).message, message);
      return true;
    });
  }
  assert.throws(() => encodeValue(deep), /nests more than 500 levels deep/);
  assert.throws(() => encodeValue(() => 1), /^SerializationError: value is a function/);
});

Deno.test("encoding is deterministic and distinguishes types", () => {
  const make = () => ({ a: [1, "x", { y: new Map([[1, 2n]]) }], d: new Date(3), s: new Set([1]) });
  const bytes = (v: unknown) => encodeValue(v).header;
  assert.deepEqual(bytes(make()), bytes(make()));
  const v = make();
  assert.deepEqual(bytes(v), bytes(v));
  const distinct = [new Map(), {}, [], "", new Set(), null, undefined, 0, -0, 0n, false, "0"];
  distinct.push(new Uint8Array(0), new ArrayBuffer(0), new Date(0), new Int8Array(0));
  const seen = new Set(distinct.map((x) => bytes(x).join(",")));
  assert.equal(seen.size, distinct.length);
  assert.notDeepEqual(bytes(new Map([["a", 1]])), bytes({ a: 1 }));
  assert.notDeepEqual(bytes([1]), bytes(new Set([1])));
});

Deno.test("the header is a standalone copy, not msgpackr's shared buffer", () => {
  const p = encodeValue([1, 2, 3]);
  assert.equal(p.header.byteOffset, 0);
  assert.equal(p.header.buffer.byteLength, p.header.byteLength);
  assert.equal(p.header.constructor, Uint8Array);
});

Deno.test("malformed payloads fail with SerializationError", () => {
  assert.throws(
    () => decodeValue(new Payload(new Uint8Array([0x92, 0x01]), [])),
    SerializationError,
  );
  const framed = encodeValue(new Uint8Array(FRAME_THRESHOLD));
  assert.throws(() => decodeValue(new Payload(framed.header, [])), /missing frame 0/);
  assert.throws(
    () => decodeValue(new Payload(framed.header, [new Uint8Array(10)])),
    /outside frame 0/,
  );
});

// One test: apache-arrow is loaded once per process, and everything before that is the point.
Deno.test("Arrow Tables: met before apache-arrow is loaded, then as IPC frames", async () => {
  const { tableFromArrays } = await import("apache-arrow");
  const table = tableFromArrays({ x: new Float64Array([1, 2, 3]), s: ["a", "b", "c"] });

  // the sync encode fails and says why; the next encode forgets it
  assert.throws(() => encodeValue({ table }), /Arrow Table.*not loaded/);
  assert.equal(arrowMissed(), true);
  encodeValue({ plain: 1 });
  assert.equal(arrowMissed(), false);

  // late Tables: an empty frame each (once per Table), the rest of the value encoded
  const late: LateTable[] = [];
  const deps = new Set<string>();
  const value = { a: table, b: [table, new Ref("dep-1")], n: 1 };
  const p = encodeValue(value, { lateTables: late, deps });
  assert.equal(late.length, 1);
  assert.deepEqual(p.frames.map((f) => f.byteLength), [0]);
  assert.deepEqual([...deps], ["dep-1"]);
  assert.equal(arrowMissed(), false);

  // decoding a Table before apache-arrow is loaded fails the same way
  assert.throws(() => decodeValue(p), /Arrow Table.*not loaded/);
  assert.equal(arrowMissed(), true);

  // encodeValueSoon: a Promise while apache-arrow loads, a Payload once it is in
  const soon = encodeValueSoon(value);
  assert.ok(soon instanceof Promise);
  const full = await soon;
  assert.ok(encodeValueSoon(value) instanceof Payload);

  await fillLateTables(p.frames, late);
  assert.deepEqual([...p.header], [...full.header]);
  assert.deepEqual(p.frames.map((f) => [...f]), full.frames.map((f) => [...f]));
  const out = decodeValue(p, (k) => `value of ${k}`) as {
    a: typeof table;
    b: [typeof table, string];
    n: number;
  };
  assert.equal(out.n, 1);
  assert.equal(out.b[1], "value of dep-1");
  assert.equal(out.a.numRows, 3);
  assert.equal(out.b[0].numRows, 3);
  assert.deepEqual(out.a.schema.fields.map((f) => f.name), ["x", "s"]);
  assert.deepEqual([...out.a.getChild("x")!], [1, 2, 3]);
  assert.deepEqual([...out.a.getChild("s")!], ["a", "b", "c"]);

  // loaded: the sync and async twins agree
  await loadArrow();
  const again = decodeValue(encodeValue([table])) as (typeof table)[];
  assert.equal(again[0].numRows, 3);
  const viaAsync = (await decodeValueAsync(await encodeValueAsync({ table }))) as {
    table: typeof table;
  };
  assert.equal(viaAsync.table.numRows, 3);
});

Deno.test("serialize, errors and keys run with no permission at all (browser-safe entry)", async () => {
  const root = new URL("../../", import.meta.url);
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `const m = await import("${new URL("comm/serialize.ts", root)}");
       const k = await import("${new URL("core/keys.ts", root)}");
       await m.loadArrow();
       console.log(m.decodeValue(m.encodeValue(new Map([[1, 2n]]))).get(1), k.hashBytes("x").length);`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--config", new URL("deno.json", root).pathname, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "2n 32", stderr);
  } finally {
    await Deno.remove(script);
  }
});
