// Task arguments that are instances of classes with methods: refused with a ClassInstanceError
// that names the argument and the class, or sent as plain objects with a warning once per class.
import assert from "node:assert/strict";
import { decodeValue, encodeValue } from "../../comm/serialize.ts";
import { ClassInstanceError, SerializationError } from "../../core/errors.ts";

class Point {
  constructor(public x: number, public y: number) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

Deno.test("an argument of a class with methods is refused, naming its path and class", () => {
  assert.throws(
    () =>
      encodeValue([1, { point: new Point(3, 4) }], { path: "arguments", classInstances: "error" }),
    (e: Error) => {
      assert.ok(e instanceof ClassInstanceError);
      assert.ok(e instanceof SerializationError);
      assert.match(e.message, /^arguments \[1\]\.point is an instance of class Point/);
      assert.match(e.message, /methods \(norm\)/);
      assert.match(e.message, /Pass plain data/);
      assert.match(e.message, /preloaded or imported module/);
      assert.match(e.message, /classInstances: "warn"/);
      assert.equal((e as unknown as { path: string }).path, "arguments[1].point");
      return true;
    },
  );
});

Deno.test("inherited methods and accessors count; classes of fields only and plain data pass", () => {
  class Labelled extends Point {}
  class Area {
    constructor(public w: number) {}
    get area(): number {
      return this.w * this.w;
    }
  }
  class Fields {
    a = 1;
    b = "two";
  }
  const refuse = (v: unknown) =>
    assert.throws(() => encodeValue([v], { classInstances: "error" }), ClassInstanceError);
  refuse(new Labelled(1, 2));
  refuse(new Area(2));
  const fine = [
    new Fields(),
    Object.assign(Object.create(null), { a: 1 }),
    { a: [1, 2, 3], d: new Date(0), m: new Map([[1, 2]]), s: new Set([1]) },
    new Float64Array(4),
    new Error("e"),
    /re/g,
  ];
  for (const v of fine) encodeValue([v], { classInstances: "error" });
  assert.deepEqual(decodeValue(encodeValue(new Fields(), { classInstances: "error" })), {
    a: 1,
    b: "two",
  });
});

Deno.test("with classInstances: warn the fields are sent, with one warning per class", () => {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
  try {
    class Once {
      constructor(public v: number) {}
      twice(): number {
        return 2 * this.v;
      }
    }
    const p = encodeValue([{ xs: [new Once(1)] }], { path: "arguments", classInstances: "warn" });
    assert.deepEqual(decodeValue(p), [{ xs: [{ v: 1 }] }]);
    encodeValue([new Once(2)], { path: "arguments", classInstances: "warn" });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /arguments \[0\]\.xs\[0\] is an instance of class Once/);
    assert.match(warnings[0], /twice/);
  } finally {
    console.warn = warn;
  }
});

Deno.test("without classInstances (results, scattered data) instances pass silently", () => {
  assert.deepEqual(decodeValue(encodeValue(new Point(3, 4))), { x: 3, y: 4 });
});
