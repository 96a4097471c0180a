import assert from "node:assert/strict";
import { Actor } from "../../actor/mod.ts";

/** A promise with its resolve/reject, to hold a message in flight. */
function deferred<T = void>(): PromiseWithResolvers<T> {
  return Promise.withResolvers<T>();
}

/** Yield microtasks until `cond()` holds; fails after `deadlineMs`. No timers. */
async function until(cond: () => boolean, deadlineMs = 2000): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error("condition not met before the deadline");
    await Promise.resolve();
  }
}

class Recorder extends Actor<number> {
  readonly seen: number[] = [];
  readonly log: string[] = [];
  protected override receive(msg: number): void {
    this.seen.push(msg);
  }
  protected override preStart(): void | Promise<void> {
    return Promise.resolve().then(() => {
      this.log.push("preStart");
    });
  }
  protected override postStop(reason?: unknown): void | Promise<void> {
    return Promise.resolve().then(() => {
      this.log.push(`postStop:${String(reason)}`);
    });
  }
}

/** Each message waits on a gate the test opens; records begin/end to detect interleaving. */
class Gated extends Actor<number> {
  readonly log: string[] = [];
  readonly gates = new Map<number, PromiseWithResolvers<void>>();
  gate(n: number): PromiseWithResolvers<void> {
    let g = this.gates.get(n);
    if (!g) this.gates.set(n, g = deferred());
    return g;
  }
  protected override async receive(msg: number): Promise<void> {
    this.log.push(`begin ${msg}`);
    await this.gate(msg).promise;
    this.log.push(`end ${msg}`);
    if (msg < 0) throw new Error(`bad ${msg}`);
  }
}

Deno.test("sync receive: every message, in order, including past the compaction point", async () => {
  const a = new Recorder();
  const n = 10_000;
  for (let i = 0; i < n; i++) a.ref.tell(i); // queued before start
  await a.start();
  await until(() => a.seen.length === n);
  assert.deepEqual(a.seen, Array.from({ length: n }, (_, i) => i));
  assert.equal(a.mailboxSize, 0);
  for (let i = 0; i < 3; i++) a.ref.tell(n + i);
  await until(() => a.seen.length === n + 3);
  assert.deepEqual(a.seen.slice(n), [n, n + 1, n + 2]);
  await a.stop();
  assert.deepEqual(a.log, ["preStart", "postStop:undefined"]);
});

Deno.test("async receive: one message at a time, the next starts after the previous settles", async () => {
  const a = new Gated("gated");
  await a.start();
  a.ref.tell(1);
  a.ref.tell(2);
  a.ref.tell(3);
  await until(() => a.log.length === 1);
  assert.deepEqual(a.log, ["begin 1"]);
  a.gate(3).resolve(); // opening a later gate changes nothing
  a.gate(2).resolve();
  for (let i = 0; i < 50; i++) await Promise.resolve();
  assert.deepEqual(a.log, ["begin 1"]);
  assert.equal(a.mailboxSize, 2);
  a.gate(1).resolve();
  await until(() => a.log.length === 6);
  assert.deepEqual(a.log, ["begin 1", "end 1", "begin 2", "end 2", "begin 3", "end 3"]);
  await a.stop();
});

Deno.test("stop awaits the in-flight message, drops the queue, then runs postStop", async () => {
  const order: string[] = [];
  class A extends Gated {
    protected override postStop(reason?: unknown): void {
      order.push(`postStop ${String(reason)}`);
    }
  }
  const a = new A();
  await a.start();
  a.ref.tell(1);
  a.ref.tell(2);
  a.ref.tell(3);
  await until(() => a.log.length === 1);
  const stopping = a.stop("bye");
  assert.equal(a.stopped, true);
  assert.equal(a.ref.stopped, true);
  for (let i = 0; i < 20; i++) await Promise.resolve();
  assert.deepEqual(order, []); // still waiting for message 1
  a.gate(1).resolve();
  await stopping;
  assert.deepEqual(a.log, ["begin 1", "end 1"]);
  assert.deepEqual(order, ["postStop bye"]);
  assert.equal(a.dropped, 2);
});

Deno.test("stop is idempotent: same promise, postStop once, hooks once", async () => {
  let posts = 0;
  let exits = 0;
  class A extends Recorder {
    protected override postStop(): void {
      posts++;
    }
  }
  const a = new A();
  a.onExit = () => exits++;
  await a.start();
  const p1 = a.stop();
  const p2 = a.stop();
  assert.equal(p1, p2);
  await p1;
  await a.stop();
  assert.equal(posts, 1);
  assert.equal(exits, 1);
  assert.equal(a.failed, false);
});

Deno.test("tell after stop never throws: it drops and counts", async () => {
  const a = new Recorder("r");
  assert.equal(a.ref.name, "r");
  await a.start();
  a.ref.tell(1);
  await until(() => a.seen.length === 1);
  await a.stop();
  a.ref.tell(2);
  a.ref.tell(3);
  assert.equal(a.dropped, 2);
  assert.deepEqual(a.seen, [1]);
  assert.equal(a.ref.stopped, true);
});

Deno.test("a receive that throws stops the actor and reports onFailure after postStop", async () => {
  const order: string[] = [];
  class Boom extends Actor<string> {
    protected override receive(msg: string): void {
      order.push(msg);
      if (msg === "boom") throw new Error("kaput");
    }
    protected override async postStop(reason?: unknown): Promise<void> {
      await Promise.resolve();
      order.push(`postStop ${(reason as Error).message}`);
    }
  }
  const a = new Boom();
  const failed = deferred<unknown>();
  a.onFailure = (e) => {
    order.push("onFailure");
    failed.resolve(e);
  };
  a.onExit = () => order.push("onExit");
  await a.start();
  a.ref.tell("ok");
  a.ref.tell("boom");
  a.ref.tell("never");
  const err = await failed.promise;
  assert.equal((err as Error).message, "kaput");
  assert.equal(a.failure, err);
  assert.equal(a.failed, true);
  assert.deepEqual(order, ["ok", "boom", "postStop kaput", "onFailure"]);
  assert.equal(a.dropped, 1);
  await a.stop(); // already stopped: resolves
});

Deno.test("an async receive that rejects fails the actor the same way", async () => {
  const a = new Gated();
  const failed = deferred<unknown>();
  a.onFailure = failed.resolve;
  await a.start();
  a.ref.tell(-1);
  a.ref.tell(2);
  a.gate(-1).resolve();
  assert.equal(((await failed.promise) as Error).message, "bad -1");
  assert.deepEqual(a.log, ["begin -1", "end -1"]);
  assert.equal(a.dropped, 1);
});

Deno.test("receive may call stop() on itself (not awaited)", async () => {
  const exited = deferred();
  class Once extends Actor<number> {
    seen: number[] = [];
    post = 0;
    protected override receive(msg: number): void {
      this.seen.push(msg);
      this.stop("done");
      this.seen.push(-msg); // still runs: stop waits for receive to return
    }
    protected override postStop(): void {
      this.post++;
    }
  }
  const a = new Once();
  a.onExit = exited.resolve;
  await a.start();
  a.ref.tell(1);
  a.ref.tell(2);
  await exited.promise;
  assert.deepEqual(a.seen, [1, -1]);
  assert.equal(a.post, 1);
  assert.equal(a.dropped, 1);
});

Deno.test("preStart that throws: start rejects, no message runs, no postStop", async () => {
  let posts = 0;
  class Bad extends Recorder {
    protected override preStart(): void {
      throw new Error("no");
    }
    protected override postStop(): void {
      posts++;
    }
  }
  const a = new Bad();
  a.ref.tell(1);
  await assert.rejects(a.start(), /no/);
  assert.equal(a.stopped, true);
  assert.deepEqual(a.seen, []);
  await a.stop();
  assert.equal(posts, 0);
  assert.equal(a.dropped, 1);
  await assert.rejects(a.start(), /already started/);
});

Deno.test("stop during an async preStart: postStop runs, no message is processed", async () => {
  const gate = deferred();
  class Slow extends Recorder {
    protected override async preStart(): Promise<void> {
      await gate.promise;
    }
  }
  const a = new Slow();
  const started = a.start();
  a.ref.tell(1);
  const stopped = a.stop("early");
  gate.resolve();
  await started;
  await stopped;
  assert.deepEqual(a.seen, []);
  assert.deepEqual(a.log, ["postStop:early"]);
});

Deno.test("a postStop that throws counts as a failure", async () => {
  class A extends Recorder {
    protected override postStop(): void {
      throw new Error("cleanup");
    }
  }
  const a = new A();
  let got: unknown;
  a.onFailure = (e) => got = e;
  await a.start();
  await a.stop();
  assert.equal((got as Error).message, "cleanup");
  assert.equal(a.failed, true);
});

Deno.test("stopping a never-started actor resolves without hooks", async () => {
  const a = new Recorder();
  a.ref.tell(1);
  await a.stop();
  assert.deepEqual(a.log, []);
  assert.equal(a.dropped, 1);
  await assert.rejects(a.start(), /already started/);
});

Deno.test("no timers: the actor never calls setTimeout or setInterval", async () => {
  const { setTimeout: st, setInterval: si } = globalThis;
  let calls = 0;
  const spy = ((..._args: unknown[]) => {
    calls++;
    return 0;
  }) as unknown as typeof setTimeout;
  globalThis.setTimeout = spy;
  globalThis.setInterval = spy as unknown as typeof setInterval;
  try {
    const a = new Gated();
    await a.start();
    a.ref.tell(1);
    a.ref.tell(2);
    a.gate(1).resolve();
    a.gate(2).resolve();
    await until(() => a.log.length === 4);
    const b = new Recorder();
    await b.start();
    b.ref.tell(1);
    await until(() => b.seen.length === 1);
    await Promise.all([a.stop(), b.stop()]);
  } finally {
    globalThis.setTimeout = st;
    globalThis.setInterval = si;
  }
  assert.equal(calls, 0);
});
