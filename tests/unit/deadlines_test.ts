// The scheduler's deadlines (scheduler/deadlines.ts) on fake timers: a deadline fires through the
// actor's receive (a posted stimulus), a cancelled one does not, one longer than a timer can
// wait fires on time, and closing disarms them all.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { Deadlines } from "../../scheduler/deadlines.ts";
import type { DeadlinePassed } from "../../scheduler/stimulus.ts";
import { keepTimer } from "../../comm/unref.ts";

/** Deadlines whose stimuli go straight back in (the actor's receive, as it does). */
function deadlines() {
  const posted: DeadlinePassed[] = [];
  const d: Deadlines = new Deadlines((s) => {
    posted.push(s);
    d.passed(s);
  }, keepTimer);
  return { d, posted };
}

Deno.test("deadlines: fire through a posted stimulus; a cancelled one never fires", () => {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  try {
    const { d, posted } = deadlines();
    const fired: string[] = [];
    d.after(100, () => fired.push("a"));
    const b = d.after(50, () => fired.push("b"));
    d.cancel(b);
    clock.tick(99);
    assert.equal(fired.length, 0);
    clock.tick(1);
    assert.equal(fired.join(), "a");
    assert.equal(posted.length, 1);
    d.after(10, () => fired.push("c"));
    d.close();
    clock.tick(100);
    assert.equal(fired.join(), "a", "closing disarms");
    assert.equal(d.after(1, () => fired.push("d")), 0, "nothing is armed once closed");
  } finally {
    clock.uninstall();
  }
});

Deno.test("deadlines: one longer than setTimeout can wait (2^31 - 1 ms) fires at its time", () => {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  try {
    const { d } = deadlines();
    let fired = false;
    const ms = 2 ** 31 + 60_000;
    d.after(ms, () => fired = true);
    clock.tick(2 ** 31 - 1);
    assert.equal(fired, false, "not when the first timer ends");
    clock.tick(60_000);
    assert.equal(fired, false);
    clock.tick(1);
    assert.equal(fired, true);
  } finally {
    clock.uninstall();
  }
});
