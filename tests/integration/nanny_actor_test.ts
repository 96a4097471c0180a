// The nanny is an actor: starting and stopping, each line its worker process prints, the
// process's exit and its timers all enter through Nanny.receive, and what it reports (started,
// failed, exited) it reports from there.
import assert from "node:assert/strict";
import { Scheduler } from "../../mod.ts";
import { Nanny } from "../../worker/nanny.ts";
import { NannyActor, type NannyStimulus } from "../../worker/nanny_actor.ts";
import { until } from "./helpers.ts";

/** A nanny whose stimuli are recorded, with where each report was made. */
function watched(scheduler: string) {
  const kinds: string[] = [];
  const reports: string[] = [];
  let inside: string | null = null;
  const nanny = new Nanny({
    scheduler,
    nthreads: 1,
    silenceLogs: true,
    onStarted: () => reports.push(`started in ${inside}`),
  });
  const receive = NannyActor.prototype.receive;
  NannyActor.prototype.receive = function (this: NannyActor, s: NannyStimulus) {
    kinds.push(s.kind);
    const outer = inside;
    inside = s.kind;
    try {
      receive.call(this, s);
    } finally {
      inside = outer;
    }
  };
  const restore = () => NannyActor.prototype.receive = receive;
  nanny.onFailure = (e) => reports.push(`failed in ${inside}: ${(e as Error).message}`);
  nanny.onExit = () => reports.push(`exited in ${inside}`);
  return { nanny, kinds, reports, restore };
}

Deno.test("a nanny reports its worker's start and death from inside its receive", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const { nanny, kinds, reports, restore } = watched(scheduler.address);
  try {
    await nanny.start();
    assert.match(nanny.workerAddress, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(reports, ["started in line"]);
    nanny.kill("SIGKILL");
    await until(() => reports.length === 2, "the death to be reported");
    assert.match(
      reports[1],
      /^failed in exited: worker process \d+ died \(killed by signal SIGKILL\)/,
    );
    assert.deepEqual(kinds.slice(0, 2), ["start", "line"]);
    assert.ok(kinds.includes("output-ended"), kinds.join());
    await nanny.stop();
    assert.equal(kinds.at(-1), "stop");
  } finally {
    await nanny.stop();
    restore();
    await scheduler.close();
  }
});

Deno.test("a nanny stopped while its worker process starts rejects that start, reporting nothing", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const { nanny, kinds, reports, restore } = watched(scheduler.address);
  try {
    const starting = nanny.start();
    const stopped = nanny.stop();
    await assert.rejects(starting, /stopped while its worker process started/);
    await stopped;
    assert.deepEqual(reports, []);
    assert.deepEqual(kinds.slice(0, 2), ["start", "stop"]);
    assert.ok(kinds.includes("exited"), kinds.join());
  } finally {
    await nanny.stop();
    restore();
    await scheduler.close();
  }
});
