// Actors on a real LocalCluster (Dask's test_actor.py scenarios): a class submitted with
// `client.with({ actor: true })` lives on one worker thread; its handle's methods run there,
// in the order they are called, async ones interleaving; errors come back with their name and
// message; the handle travels to tasks; releasing the Future frees the instance.
import assert from "node:assert/strict";
import {
  Actor,
  type ActorHandle,
  ActorLostError,
  Client,
  LocalCluster,
  ScopeError,
} from "../../mod.ts";
import { until } from "./helpers.ts";

const quiet = { dashboardAddress: null, silenceLogs: true, processes: false } as const;

class Counter {
  n: number;
  constructor(start = 0) {
    this.n = start;
  }
  increment(by = 1) {
    return this.n += by;
  }
  fail() {
    throw new RangeError(`no range at ${this.n}`);
  }
  async failLater() {
    await Promise.resolve();
    throw new SyntaxError("later");
  }
}

/** An async actor: `wait()` calls wait together until `set()`. */
class Waiter {
  waiting = 0;
  #release!: () => void;
  #released = new Promise<void>((r) => this.#release = r);
  async wait() {
    this.waiting++;
    await this.#released;
    return "released";
  }
  set() {
    this.#release();
  }
}

const OUTSIDE = 7;
/** Uses a name from its enclosing scope, which does not travel with it. */
class Leaky {
  peek() {
    return OUTSIDE;
  }
}

class Broken {
  constructor(why: string) {
    throw new TypeError(`cannot start: ${why}`);
  }
}

/** How many actor instances the thread running this task holds (`_salt`: a fresh key). */
function actorsHere(_salt: number): number {
  const table = (globalThis as Record<symbol, { size: number } | undefined>)[
    Symbol.for("dtask.threadActors")
  ];
  return table?.size ?? 0;
}

Deno.test("a counter actor: its methods run on its worker and keep its state", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const future = client.with({ actor: true }).submit(Counter, 10);
  const counter = await future;
  assert.ok(counter instanceof Actor);
  assert.equal((counter as unknown as { then?: unknown }).then, undefined, "a handle has no then");
  assert.match(Deno.inspect(counter), /^Actor<Counter> \{ key: "Counter-/);
  assert.equal(await counter.increment(), 11);
  assert.equal(await counter.increment(5), 16);
  // calls on one actor run in the order they arrive
  const ns = await Promise.all(Array.from({ length: 10 }, () => counter.increment()));
  assert.deepEqual(ns, Array.from({ length: 10 }, (_, i) => 17 + i));
  // a field read by calling it (Dask's attribute access)
  assert.equal(await (counter as unknown as { n(): Promise<number> }).n(), 26);
  // impure: each submit is a new instance with its own key
  const other = client.with({ actor: true }).submit(Counter, 10);
  assert.notEqual(other.key, future.key);
  assert.equal(await (await other).increment(), 11);
});

Deno.test("an actor counter incremented from 20 tasks in parallel ends at 20", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 2 });
  await using client = await Client.connect(cluster);
  const counter = await client.with({ actor: true }).submit(Counter);
  const bump = async (c: ActorHandle<Counter>, i: number) => (await c.increment(), i);
  const done = client.map(bump, Array(20).fill(counter), Array.from({ length: 20 }, (_, i) => i));
  assert.equal((await client.gather(done)).length, 20);
  assert.equal(await counter.increment(0), 20);
  // the actor's Future itself as an argument: the task gets the handle
  const future = client.with({ actor: true }).submit(Counter, 100);
  const viaFuture = client.submit(
    async (c: ActorHandle<Counter>) => await c.increment(),
    future,
  );
  assert.equal(await viaFuture, 101);
});

Deno.test("an async method's awaits let other calls in: 5 waits are released together", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const waiter = await client.with({ actor: true }).submit(Waiter);
  const waits = Array.from({ length: 5 }, () => waiter.wait());
  const field = waiter as unknown as { waiting(): Promise<number> };
  await until(async () => await field.waiting() === 5, "5 waits to be waiting at once");
  await waiter.set();
  assert.deepEqual(await Promise.all(waits), Array(5).fill("released"));
});

Deno.test("errors: a method's error raises at the caller; a missing method is named", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const counter = await client.with({ actor: true }).submit(Counter, 3);
  const e1 = await counter.fail().then(() => null, (e) => e);
  assert.ok(e1 instanceof RangeError, String(e1));
  assert.equal(e1.message, "no range at 3");
  const e2 = await counter.failLater().then(() => null, (e) => e);
  assert.ok(e2 instanceof SyntaxError, String(e2));
  assert.equal(e2.message, "later");
  const missing = (counter as unknown as { decrement(): Promise<number> }).decrement();
  const e3 = await missing.then(() => null, (e) => e);
  assert.ok(e3 instanceof TypeError, String(e3));
  assert.match(e3.message, /Counter has no method "decrement"/);
  assert.equal(await counter.increment(), 4, "the actor lives on after its errors");
  // a name from the class's enclosing scope: a ScopeError that names it
  const leaky = await client.with({ actor: true }).submit(Leaky);
  const e5 = await leaky.peek().then(() => null, (e) => e);
  assert.ok(e5 instanceof ScopeError, String(e5));
  assert.match(e5.message, /uses "OUTSIDE" from its enclosing scope/);
  // a Future as a method's argument is refused at the call (pass its value)
  const asArg = (counter as unknown as { increment(by: unknown): Promise<number> })
    .increment(client.submit((x: number) => x, 1));
  await assert.rejects(asArg, /is a Future: await it/);
  // the constructor's error surfaces when awaiting the actor's Future
  const broken = client.with({ actor: true }).submit(Broken, "no disk");
  const e4 = await broken.then(() => null, (e) => e);
  assert.ok(e4 instanceof TypeError, String(e4));
  assert.equal(e4.message, "cannot start: no disk");
  assert.equal(broken.status, "error");
});

Deno.test("releasing the actor's Future and its handle frees its instance on the worker", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const held = async () => await client.submit(actorsHere, Math.random());
  const future = client.with({ actor: true }).submit(Counter);
  let stale: ActorHandle<Counter>;
  {
    using counter = await future;
    stale = counter; // (still callable once disposed of: it just no longer holds the actor)
    assert.equal(await counter.increment(), 1);
    assert.equal(await held(), 1);
    // the handle holds the actor, as Dask's Actor holds its future: it outlives the Future
    future.release();
    assert.equal(await counter.increment(), 2);
    assert.equal(await held(), 1);
  } // disposed of: nothing holds it any more
  await until(async () => await held() === 0, "the worker to drop the instance");
  const e = await stale.increment().then(() => null, (e) => e);
  assert.ok(e instanceof ActorLostError, String(e));
  assert.match(e.message, /released/);
});

Deno.test("two actors on two workers land on different workers", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const a = client.with({ actor: true }).submit(Counter);
  const b = client.with({ actor: true }).submit(Counter);
  await Promise.all([a, b]);
  const who = await client.whoHas([a, b]);
  assert.equal(who[a.key].length, 1);
  assert.notEqual(who[a.key][0], who[b.key][0]);
});

Deno.test("bad input: a non-class actor, a class as a task, bad actorRestarts throw at the call", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const actor = client.with({ actor: true }) as unknown as {
    submit(f: unknown, ...args: unknown[]): unknown;
  };
  assert.throws(() => actor.submit((x: number) => x), TypeError);
  assert.throws(
    () => actor.submit(function plain() {}),
    /made from a class, and plain is a function/,
  );
  assert.throws(() => actor.submit(42), /a function \(or, for an actor, a class\)/);
  const plain = client as unknown as { submit(f: unknown): unknown };
  assert.throws(() => plain.submit(Counter), /Counter is a class.*actor: true/);
  for (const actorRestarts of [-1, 1.5, "2", NaN]) {
    assert.throws(
      () => client.with({ actor: true, actorRestarts: actorRestarts as number }),
      /actorRestarts must be a whole number >= 0/,
    );
  }
  assert.throws(() => client.with({ actorRestarts: 1 }), /actorRestarts needs actor: true/);
  assert.throws(() => client.with({ actor: "yes" as unknown as boolean }), /actor must be true/);
  assert.throws(() => client.with({ actor: true, pure: true }), /never pure/);
  // nothing broke: the cluster still serves
  assert.equal(await (await client.with({ actor: true }).submit(Counter)).increment(), 1);
});

Deno.test("a client over ws://, which cannot reach workers, calls an actor through the scheduler", async () => {
  await using cluster = await LocalCluster.start({
    ...quiet,
    nWorkers: 1,
    threadsPerWorker: 1,
    wsPort: 0,
  });
  await using client = await Client.connect(cluster.wsAddress!);
  const counter = await client.with({ actor: true }).submit(Counter, 1);
  assert.equal(await counter.increment(), 2);
  assert.deepEqual(await Promise.all([counter.increment(), counter.increment()]), [3, 4]);
});
