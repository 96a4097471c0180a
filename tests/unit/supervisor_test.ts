import assert from "node:assert/strict";
import { type Supervisable, Supervisor, type SupervisorEvent } from "../../actor/supervisor.ts";
import { Actor } from "../fixtures/mailbox_actor.ts";

/** Yield microtasks until `cond()` holds; fails after `deadlineMs`. No timers. */
async function until(cond: () => boolean, deadlineMs = 2000): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error("condition not met before the deadline");
    await Promise.resolve();
  }
}

type Msg = { op: "add"; n: number } | { op: "fail" } | { op: "exit" };

/** Counts; fails or exits on request. Every instance gets a serial number. */
class Counter extends Actor<Msg> {
  static made = 0;
  readonly serial = ++Counter.made;
  total = 0;
  constructor(name: string, readonly journal: string[] = []) {
    super(name);
  }
  protected override receive(msg: Msg): void {
    if (msg.op === "add") this.total += msg.n;
    else if (msg.op === "fail") throw new Error(`${this.name} failed`);
    else this.stop();
  }
  protected override preStart(): void {
    this.journal.push(`start ${this.name}`);
  }
  protected override async postStop(): Promise<void> {
    await Promise.resolve();
    this.journal.push(`stop ${this.name}`);
  }
}

/** A supervisor with a manual clock and an event log. */
function setup(extra: { maxRestarts?: number; withinMs?: number } = {}) {
  const clock = { t: 0 };
  const gaveUp: [string, unknown][] = [];
  const sup = new Supervisor({
    now: () => clock.t,
    onGiveUp: (name, error) => gaveUp.push([name, error]),
    ...extra,
  });
  const kinds = (name: string) =>
    sup.events.filter((e: SupervisorEvent) => e.name === name).map((e) => e.type);
  return { clock, gaveUp, sup, kinds };
}

Deno.test("a failed child is restarted as a fresh instance; siblings are untouched", async () => {
  const { sup, kinds } = setup();
  const a = await sup.supervise("a", () => new Counter("a"));
  const b = await sup.supervise("b", () => new Counter("b"));
  a.ref.tell({ op: "add", n: 5 });
  b.ref.tell({ op: "add", n: 7 });
  a.ref.tell({ op: "fail" });
  await until(() => sup.status("a") === "running" && sup.child("a") !== a);
  const a2 = sup.child("a") as Counter;
  assert.notEqual(a2.serial, a.serial);
  assert.equal(a2.total, 0);
  assert.equal(a.ref.stopped, true);
  assert.equal(sup.child("b"), b);
  assert.equal(b.stopped, false);
  a2.ref.tell({ op: "add", n: 1 });
  await until(() => a2.total === 1);
  assert.equal(b.total, 7);
  assert.deepEqual(kinds("a"), ["started", "failed", "started", "restarted"]);
  assert.deepEqual(kinds("b"), ["started"]);
  await sup.stop();
});

Deno.test("permanent restarts after a normal exit too", async () => {
  const { sup, kinds } = setup();
  const a = await sup.supervise("p", () => new Counter("p"), { restart: "permanent" });
  a.ref.tell({ op: "exit" });
  await until(() => kinds("p").includes("restarted"));
  assert.equal(sup.status("p"), "running");
  assert.deepEqual(kinds("p"), ["started", "exited", "started", "restarted"]);
  await sup.stop();
});

Deno.test("transient restarts after a failure but not after a normal exit", async () => {
  const { sup, kinds } = setup();
  const a = await sup.supervise("t", () => new Counter("t"), { restart: "transient" });
  a.ref.tell({ op: "fail" });
  await until(() => kinds("t").includes("restarted"));
  const a2 = sup.child("t") as Counter;
  a2.ref.tell({ op: "exit" });
  await until(() => sup.status("t") === "exited");
  assert.equal(sup.child("t"), undefined);
  assert.deepEqual(kinds("t"), ["started", "failed", "started", "restarted", "exited"]);
  await sup.stop();
});

Deno.test("temporary is never restarted", async () => {
  const { sup, kinds } = setup();
  const a = await sup.supervise("x", () => new Counter("x"), { restart: "temporary" });
  a.ref.tell({ op: "fail" });
  await until(() => sup.status("x") === "failed");
  const b = await sup.supervise("y", () => new Counter("y"), { restart: "temporary" });
  b.ref.tell({ op: "exit" });
  await until(() => sup.status("y") === "exited");
  assert.deepEqual(kinds("x"), ["started", "failed"]);
  assert.deepEqual(kinds("y"), ["started", "exited"]);
  await sup.stop();
});

Deno.test("intensity: past maxRestarts within the window the supervisor gives up", async () => {
  const { sup, gaveUp, kinds, clock } = setup({ maxRestarts: 3, withinMs: 1000 });
  let made = 0;
  await sup.supervise("flaky", () => {
    made++;
    return new Counter("flaky");
  });
  for (let i = 0; i < 3; i++) {
    clock.t += 10;
    (sup.child("flaky") as Counter).ref.tell({ op: "fail" });
    await until(() => kinds("flaky").filter((k) => k === "restarted").length === i + 1);
  }
  clock.t += 10;
  const last = sup.child("flaky") as Counter;
  last.ref.tell({ op: "fail" });
  await until(() => sup.status("flaky") === "gave-up");
  assert.equal(made, 4);
  assert.equal(sup.child("flaky"), undefined);
  assert.equal(gaveUp.length, 1);
  assert.equal(gaveUp[0][0], "flaky");
  assert.equal((gaveUp[0][1] as Error).message, "flaky failed");
  const giveUp = sup.events.at(-1)!;
  assert.equal(giveUp.type, "gave-up");
  assert.equal(giveUp.error, gaveUp[0][1]);
  assert.equal(giveUp.time, 40);
  await sup.stop();
});

Deno.test("intensity: failures spread beyond the window keep being restarted", async () => {
  const { sup, gaveUp, kinds, clock } = setup({ maxRestarts: 2, withinMs: 1000 });
  await sup.supervise("slow", () => new Counter("slow"));
  for (let i = 0; i < 10; i++) {
    clock.t += 600; // at most two restarts ever fall inside one window
    (sup.child("slow") as Counter).ref.tell({ op: "fail" });
    await until(() => kinds("slow").filter((k) => k === "restarted").length === i + 1);
  }
  assert.equal(gaveUp.length, 0);
  assert.equal(sup.status("slow"), "running");
  await sup.stop();
});

Deno.test("a factory that throws on restart counts against the limit", async () => {
  const { sup, gaveUp } = setup({ maxRestarts: 2 });
  let calls = 0;
  const a = await sup.supervise("f", () => {
    if (++calls > 1) throw new Error(`factory ${calls}`);
    return new Counter("f");
  });
  a.ref.tell({ op: "fail" });
  await until(() => sup.status("f") === "gave-up");
  assert.equal(calls, 3);
  assert.equal((gaveUp[0][1] as Error).message, "factory 3");
  await sup.stop();
});

Deno.test("supervise rejects when the child cannot start, and keeps no record", async () => {
  const { sup } = setup();
  class Bad extends Counter {
    protected override preStart(): void {
      throw new Error("cannot");
    }
  }
  await assert.rejects(sup.supervise("bad", () => new Bad("bad")), /cannot/);
  assert.equal(sup.status("bad"), undefined);
  await sup.supervise("dup", () => new Counter("dup"));
  await assert.rejects(sup.supervise("dup", () => new Counter("dup")), /already supervised/);
  await sup.stop();
});

Deno.test("stop stops children in reverse start order, awaiting each; idempotent", async () => {
  const { sup, kinds } = setup();
  const journal: string[] = [];
  for (const name of ["one", "two", "three"]) {
    await sup.supervise(name, () => new Counter(name, journal));
  }
  (sup.child("two") as Counter).ref.tell({ op: "fail" }); // a restart keeps its place
  await until(() => kinds("two").includes("restarted"));
  journal.length = 0;
  const p1 = sup.stop();
  assert.equal(sup.stop(), p1);
  await p1;
  assert.deepEqual(journal, ["stop three", "stop two", "stop one"]);
  assert.deepEqual(sup.names().map((n) => sup.status(n)), ["stopped", "stopped", "stopped"]);
  await sup.stop();
  await assert.rejects(sup.supervise("late", () => new Counter("late")), /stopped/);
});

Deno.test("stopChild stops one child without restarting it", async () => {
  const { sup, kinds } = setup();
  const a = await sup.supervise("a", () => new Counter("a"));
  await sup.supervise("b", () => new Counter("b"));
  await sup.stopChild("a");
  assert.equal(a.stopped, true);
  assert.equal(sup.status("a"), "stopped");
  assert.equal(sup.status("b"), "running");
  assert.deepEqual(kinds("a"), ["started", "stopped"]);
  await sup.supervise("a", () => new Counter("a")); // the name can be reused
  assert.deepEqual(sup.names(), ["b", "a"]);
  await sup.stop();
});

/** A stand-in for a process nanny: not an Actor, reports its own death via onFailure. */
class FakeNanny implements Supervisable {
  static alive = 0;
  onFailure: ((error: unknown) => void) | undefined;
  running = false;
  start(): Promise<void> {
    this.running = true;
    FakeNanny.alive++;
    return Promise.resolve();
  }
  stop(): void {
    if (this.running) FakeNanny.alive--;
    this.running = false;
  }
  crash(): void {
    this.onFailure?.(new Error("process exited with code 137"));
  }
}

Deno.test("any Supervisable (not only an Actor) is restarted and stopped", async () => {
  const { sup, kinds } = setup();
  FakeNanny.alive = 0;
  const n1 = await sup.supervise("nanny", () => new FakeNanny());
  n1.crash();
  await until(() => kinds("nanny").includes("restarted"));
  assert.equal(n1.running, false); // the supervisor stopped the failed instance
  const n2 = sup.child("nanny") as FakeNanny;
  assert.notEqual(n2, n1);
  assert.equal(FakeNanny.alive, 1);
  n1.crash(); // a stale instance's report is ignored
  for (let i = 0; i < 20; i++) await Promise.resolve();
  assert.equal(sup.child("nanny"), n2);
  await sup.stop();
  assert.equal(FakeNanny.alive, 0);
});

Deno.test("a nested supervisor escalates a give-up to its parent, which restarts it", async () => {
  const { sup: root, kinds } = setup();
  let inner: Supervisor | undefined;
  await root.supervise("inner", async () => {
    inner = new Supervisor({ maxRestarts: 0 });
    await inner.supervise("leaf", () => new Counter("leaf"));
    return inner;
  });
  const first = inner!;
  (first.child("leaf") as Counter).ref.tell({ op: "fail" });
  await until(() => kinds("inner").includes("restarted"));
  assert.equal(first.status("leaf"), "gave-up");
  assert.notEqual(inner, first);
  assert.equal(inner!.status("leaf"), "running");
  await root.stop();
  assert.equal(inner!.status("leaf"), "stopped");
});

Deno.test("children failing while the supervisor stops are not restarted", async () => {
  const { sup } = setup();
  let made = 0;
  class SlowStop extends Counter {
    protected override async postStop(): Promise<void> {
      await Promise.resolve();
    }
  }
  const a = await sup.supervise("a", () => {
    made++;
    return new SlowStop("a");
  });
  await sup.supervise("b", () => new Counter("b"));
  const stopping = sup.stop();
  a.ref.tell({ op: "fail" }); // fails while "b" is being stopped, before its own turn
  await stopping;
  assert.equal(a.failed, true);
  assert.equal(made, 1);
  assert.equal(sup.status("a"), "stopped");
});

Deno.test("no timers: supervision never calls setTimeout or setInterval", async () => {
  const { setTimeout: st, setInterval: si } = globalThis;
  let calls = 0;
  const spy = ((..._args: unknown[]) => {
    calls++;
    return 0;
  }) as unknown as typeof setTimeout;
  globalThis.setTimeout = spy;
  globalThis.setInterval = spy as unknown as typeof setInterval;
  try {
    const { sup, kinds } = setup({ maxRestarts: 1 });
    const a = await sup.supervise("a", () => new Counter("a"));
    a.ref.tell({ op: "fail" });
    await until(() => kinds("a").includes("restarted"));
    (sup.child("a") as Counter).ref.tell({ op: "fail" });
    await until(() => sup.status("a") === "gave-up");
    await sup.stop();
  } finally {
    globalThis.setTimeout = st;
    globalThis.setInterval = si;
  }
  assert.equal(calls, 0);
});
