// Exponential backoff with a cap and jitter, and the pause between attempts.
import assert from "node:assert/strict";
import { Backoff, backoffDelay, pause } from "../../core/backoff.ts";

Deno.test("backoff: delays double from the first, stop at the cap, and jitter only shortens them", () => {
  const none = { initial: 100, max: 1000, jitter: 0 };
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, none)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  const half = { initial: 100, max: 1000, jitter: 0.5 };
  assert.equal(backoffDelay(3, { ...half, random: () => 0 }), 800);
  assert.equal(backoffDelay(3, { ...half, random: () => 0.999999 }), 400);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(20, half);
    assert.ok(d >= 500 && d <= 1000, String(d));
  }
});

Deno.test("Backoff counts attempts and starts again after reset()", () => {
  const b = new Backoff({ initial: 10, max: 50, jitter: 0 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [10, 20, 40, 50]);
  assert.equal(b.attempts, 4);
  b.reset();
  assert.equal(b.next(), 10);
});

Deno.test("pause: ends early when its signal aborts, and leaves no timer", async () => {
  const stop = new AbortController();
  const waiting = pause(60_000, stop.signal);
  stop.abort();
  assert.equal(await waiting, false);
  assert.equal(await pause(1), true);
  assert.equal(await pause(60_000, stop.signal), false); // already aborted
});
