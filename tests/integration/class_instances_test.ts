// A class instance among a task's arguments: refused at submit (submit, map, compute) with a
// ClassInstanceError naming the argument and the class, instead of failing in the task with
// "p.norm is not a function"; the Client option classInstances: "warn" sends its fields.
import assert from "node:assert/strict";
import { ClassInstanceError, Client, task } from "../../mod.ts";
import { miniCluster } from "./graph_fixtures.ts";

class Point {
  constructor(public x: number, public y: number) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

const norm = (p: Point) => p.norm();

Deno.test("submit, map and compute refuse an argument of a class with methods", async () => {
  await using c = await miniCluster([1]);
  await using client = await Client.connect(c.s.address);
  assert.throws(() => client.submit(norm, new Point(3, 4)), (e: Error) => {
    assert.ok(e instanceof ClassInstanceError);
    assert.match(e.message, /^arguments \[0\] is an instance of class Point.*\(norm\)/);
    return true;
  });
  assert.throws(
    () => client.map((o: { at: Point }) => o.at.norm(), [{ at: new Point(1, 1) }]),
    /arguments \[0\]\.at is an instance of class Point/,
  );
  assert.throws(
    () => client.compute({ n: task(norm, new Point(3, 4)) }),
    /graph key n: \[0\] is an instance of class Point/,
  );
  // plain data still goes
  assert.equal(
    await client.submit((p: { x: number; y: number }) => Math.hypot(p.x, p.y), { x: 3, y: 4 }),
    5,
  );
});

Deno.test("classInstances: warn sends the fields and warns once per class", async () => {
  await using c = await miniCluster([1]);
  await using client = await Client.connect(c.s.address, { classInstances: "warn" });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
  try {
    class Pair {
      constructor(public a: number, public b: number) {}
      sum(): number {
        return this.a + this.b;
      }
    }
    const sum = (p: { a: number; b: number }) => p.a + p.b;
    assert.equal(await client.submit(sum, new Pair(1, 2)), 3);
    assert.equal(await client.submit(sum, new Pair(3, 4)), 7);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /arguments \[0\] is an instance of class Pair/);
});

Deno.test("a classInstances option other than error or warn is a TypeError", async () => {
  await using c = await miniCluster([1]);
  await assert.rejects(
    Client.connect(c.s.address, { classInstances: "ignore" as "warn" }),
    /classInstances must be "error" or "warn"/,
  );
});
