/**
 * The scheduler actor: its timers do not call the state machine, they send the actor a tick
 * that goes through `receive` (and gets a stimulus id) like every other input.
 */
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { Scheduler } from "../../scheduler/scheduler.ts";
import { liveness, schedulerState, stimulusLog } from "../../scheduler/internals.ts";
import { SchedulerTimers } from "../../scheduler/timers.ts";
import { keepTimer } from "../../comm/unref.ts";
import type { Tick } from "../../scheduler/stimulus.ts";

const TIMERS = ["setInterval", "clearInterval", "setTimeout", "clearTimeout"] as const;

Deno.test("the timers post ticks and change nothing themselves", () => {
  const clock = FakeTimers.install({ toFake: [...TIMERS] });
  try {
    const ticks: string[] = [];
    const timers = new SchedulerTimers((t: Tick) => ticks.push(t.timer), {
      balance: 100,
      workerTtl: 250,
    }, keepTimer);
    clock.tick(500);
    assert.deepEqual(ticks.filter((t) => t === "balance").length, 5);
    assert.deepEqual(ticks.filter((t) => t === "worker-ttl").length, 2);
    timers.stop();
    clock.tick(1000);
    assert.equal(ticks.length, 7, "no tick once stopped");
  } finally {
    clock.uninstall();
  }
});

Deno.test("a timer tick reaches the state machine only through receive, as a stimulus", async () => {
  const clock = FakeTimers.install({ toFake: [...TIMERS] });
  try {
    const s = await Scheduler.start({
      dashboardAddress: null,
      workerTtl: 1000,
      config: { workStealing: true, workStealingInterval: 100 },
    });
    try {
      const log = stimulusLog(s);
      const seen: string[] = [];
      const state = schedulerState(s);
      const balance = state.balance.bind(state);
      state.balance = () => {
        seen.push(log.stimulusId);
        balance();
      };
      const alive = liveness(s);
      const expired = alive.expired.bind(alive);
      alive.expired = (now, ttl) => {
        seen.push(log.stimulusId);
        return expired(now, ttl);
      };
      clock.tick(250); // ttlCheckInterval(1000) is 250 ms
      assert.equal(seen.filter((id) => /^balance-\d+$/.test(id)).length, 2, seen.join(" "));
      assert.equal(seen.filter((id) => /^worker-ttl-\d+$/.test(id)).length, 1, seen.join(" "));
      assert.equal(new Set(seen).size, seen.length, "each tick is a stimulus of its own");
    } finally {
      await s.close();
    }
  } finally {
    clock.uninstall();
  }
});
