// The worker is an actor: every input — the scheduler's and peers' messages, timer ticks, and
// the results of async work (a fetch from a peer, a client.run call, replicas fetched, task
// outcomes) — enters through WorkerActor.receive, and the state machine changes only there.
import assert from "node:assert/strict";
import { Client, Scheduler, Worker } from "../../mod.ts";
import { WorkerActor } from "../../worker/actor.ts";
import { WorkerStateMachine } from "../../worker/state.ts";
import type { WorkerStimulus } from "../../worker/stimulus.ts";
import { until } from "./helpers.ts";

/** The state machine's methods that change it. */
const MUTATORS = [
  "computeTask",
  "freeKeys",
  "gotData",
  "fetchFailed",
  "taskDone",
  "holdReplicas",
  "secede",
  "rejoin",
  "stealRequest",
  "setSlots",
  "setPaused",
] as const;

/** Records what each actor receives, and every state change made outside `receive`. */
function spy() {
  const seen = new Map<WorkerActor, string[]>();
  const outside: string[] = [];
  let depth = 0;
  const receive = WorkerActor.prototype.receive;
  WorkerActor.prototype.receive = function (this: WorkerActor, s: WorkerStimulus) {
    let kinds = seen.get(this);
    if (!kinds) seen.set(this, kinds = []);
    kinds.push(s.kind === "tick" ? `tick:${s.timer}` : s.kind);
    depth++;
    try {
      receive.call(this, s);
    } finally {
      depth--;
    }
  };
  const proto = WorkerStateMachine.prototype as unknown as Record<string, unknown>;
  const originals = MUTATORS.map((name) => [name, proto[name]] as const);
  for (const [name, f] of originals) {
    proto[name] = function (this: unknown, ...args: unknown[]) {
      if (depth === 0) outside.push(name);
      return (f as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return {
    seen,
    outside,
    /** The kinds `actor` received. */
    kinds: (actor: WorkerActor | undefined) => (actor && seen.get(actor)) ?? [],
    restore() {
      WorkerActor.prototype.receive = receive;
      for (const [name, f] of originals) proto[name] = f;
    },
  };
}

Deno.test("worker actor: ticks, peer fetches, calls and outcomes all enter through receive", async () => {
  const probe = spy();
  const s = await Scheduler.start({ port: 0, dashboardAddress: null, log: () => {} });
  const workers: Worker[] = [];
  try {
    const start = async () => {
      const before = new Set(probe.seen.keys());
      const w = await Worker.start({
        scheduler: s.address,
        nthreads: 1,
        heartbeatInterval: 20,
        silenceLogs: true,
        log: () => {},
      });
      workers.push(w);
      // the actor whose `registered` came last is this worker's
      const actor = [...probe.seen.keys()].find((a) => !before.has(a));
      assert.ok(actor, "the new worker's actor received its registration");
      assert.equal(probe.kinds(actor)[0], "registered");
      return actor;
    };
    const a = await start();
    const b = await start();
    await using client = await Client.connect(s.address);

    // data held on a, computed on b: b fetches it from a
    const [x, y] = client.scatter([1, 2], { workers: workers[0].address });
    const z = client.with({ workers: workers[1].address }).submit(
      (p: number, q: number) => p + q,
      x,
      y,
    );
    assert.equal(await z, 3);
    assert.deepEqual(Object.values(await client.run(() => 7)), [7, 7]);
    await client.replicate([x]);

    await until(
      () => probe.kinds(a).includes("tick:heartbeat") && probe.kinds(b).includes("tick:heartbeat"),
      "a heartbeat tick on each worker",
    );
    const kindsA = probe.kinds(a), kindsB = probe.kinds(b);
    for (const k of ["scheduler-message", "peer-admitted", "peer-message"]) {
      assert.ok(kindsA.includes(k), `a received ${k}: ${kindsA}`);
    }
    for (
      const k of ["scheduler-message", "data-fetched", "outcomes", "run-done", "replicas-fetched"]
    ) {
      assert.ok(kindsB.includes(k), `b received ${k}: ${kindsB}`);
    }
    assert.deepEqual(probe.outside, [], "the state machine changed only inside receive");
  } finally {
    for (const w of workers) await w.close();
    await s.close();
    probe.restore();
  }
  for (const actor of probe.seen.keys()) {
    assert.ok(probe.kinds(actor).includes("close"), "close began through receive");
  }
});
