/** The keys a worker accepts from a scatter: announced, taken once, all or none, expiring. */
import assert from "node:assert/strict";
import { ExpectedData } from "../../worker/expected_data.ts";

Deno.test("expected data: announced keys are taken once, all or none", () => {
  const e = new ExpectedData(1000);
  e.expect(["a", "b"], 0);
  assert.equal(e.take(["a", "z"], 1), "z", "an unannounced key refuses the whole put");
  assert.equal(e.size, 2);
  assert.equal(e.take(["a", "b"], 2), null);
  assert.equal(e.take(["a"], 3), "a", "taken once");
  assert.equal(e.size, 0);
});

Deno.test("expected data: announcements expire, and freed keys are forgotten", () => {
  const e = new ExpectedData(1000);
  e.expect(["a"], 0);
  e.expect(["b", "c"], 500);
  assert.equal(e.take(["a"], 1000), "a", "expired");
  assert.equal(e.size, 2);
  e.forget(["b"]);
  assert.equal(e.take(["b"], 1001), "b");
  e.expect(["c"], 1200); // announced again: expires later
  assert.equal(e.take(["c"], 2000), null);
});
