import assert from "node:assert/strict";
import { SmallSet } from "../../scheduler/small_set.ts";

Deno.test("SmallSet behaves like a Set through 0, 1 and many elements", () => {
  const s = new SmallSet<string>();
  assert.equal(s.size, 0);
  assert.deepEqual([...s], []);
  assert.equal(s.delete("a"), false);
  s.add("a").add("a");
  assert.equal(s.size, 1);
  assert.ok(s.has("a") && !s.has("b"));
  assert.deepEqual([...s], ["a"]);
  s.add("b").add("c");
  assert.equal(s.size, 3);
  assert.deepEqual([...s.values()], ["a", "b", "c"]);
  assert.equal(s.delete("b"), true);
  assert.equal(s.delete("b"), false);
  assert.deepEqual([...s], ["a", "c"]);
  for (const x of s) s.delete(x); // deleting while iterating is safe
  assert.equal(s.size, 0);
  const one = new SmallSet([undefined]);
  assert.equal(one.size, 1);
  assert.ok(one.has(undefined));
  assert.equal(one.delete(undefined), true);
  assert.equal(one.size, 0);
  s.clear();
  assert.equal(s.size, 0);
});
