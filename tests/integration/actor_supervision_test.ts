// Supervised actors with real worker processes: an actor on a SIGKILLed worker is re-created on
// another worker while `actorRestarts` lasts (its state starts over; the call in flight fails
// saying so), and with no restarts (the default, as Dask) its calls fail with "the worker
// holding this actor was lost".
import assert from "node:assert/strict";
import { type ActorHandle, ActorLostError, Client, type Future, LocalCluster } from "../../mod.ts";
import { alive, until } from "./helpers.ts";

const quiet = { dashboardAddress: null, silenceLogs: true } as const;

class Counter {
  n = 0;
  hanging = 0;
  increment() {
    return ++this.n;
  }
  /** A call that stays in flight: it never returns. */
  hang() {
    this.hanging++;
    return new Promise(() => {});
  }
}

/** Whether a call rejected, with the error. */
const rejection = (p: Promise<unknown>) => p.then(() => null, (e: Error) => e);

/** Kills the process of the worker holding `future`'s actor; its address. */
async function killHolder(
  cluster: LocalCluster,
  client: Client,
  future: Future<unknown>,
): Promise<string> {
  const [address] = (await client.whoHas(future))[future.key];
  const pid = cluster.workers.find((w) => w.address === address)!.pid;
  assert.notEqual(pid, Deno.pid, "a worker process");
  Deno.kill(pid, "SIGKILL");
  await until(() => !alive(pid), "the killed process to be gone");
  return address;
}

/** Starts a call that stays in flight, and waits until it runs on the actor. */
async function hangOne(counter: ActorHandle<Counter>): Promise<{ call: Promise<unknown> }> {
  const call = counter.hang();
  call.catch(() => {}); // looked at later
  const hanging = counter as unknown as { hanging(): Promise<number> };
  await until(async () => await hanging.hanging() === 1, "the call to be in flight");
  return { call };
}

Deno.test("an actor on a SIGKILLed worker with actorRestarts: 1 answers again, its state reset", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const future = client.with({ actor: true, actorRestarts: 1 }).submit(Counter);
  const counter = await future;
  for (let i = 1; i <= 3; i++) assert.equal(await counter.increment(), i);
  const inFlight = (await hangOne(counter)).call;
  const lost = await killHolder(cluster, client, future);
  const e = await rejection(inFlight);
  assert.ok(e instanceof ActorLostError, String(e));
  assert.match(e.message, /restarted on another worker/);
  assert.match(e.message, /its state was lost/);
  // calls made from now on go to the new instance (waiting while it is made)
  assert.equal(await counter.increment(), 1, "a new instance: its state starts over");
  assert.equal(await counter.increment(), 2);
  const [now] = (await client.whoHas(future))[future.key];
  assert.notEqual(now, lost, "re-created on another worker");
  assert.equal(future.status, "finished");
  // its one re-creation is used: the next loss is for good
  await killHolder(cluster, client, future);
  const e2 = await rejection(counter.increment());
  assert.ok(e2 instanceof ActorLostError, String(e2));
  assert.match(e2.message, /the worker holding this actor was lost/);
});

Deno.test("with no actorRestarts, calls on an actor whose worker died fail: the worker was lost", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const future = client.with({ actor: true }).submit(Counter);
  const counter = await future;
  assert.equal(await counter.increment(), 1);
  const inFlight = (await hangOne(counter)).call;
  await killHolder(cluster, client, future);
  const e = await rejection(inFlight);
  assert.ok(e instanceof ActorLostError, String(e));
  assert.match(e.message, /the worker holding this actor was lost/);
  const e2 = await rejection(counter.increment());
  assert.ok(e2 instanceof ActorLostError, String(e2));
  assert.match(e2.message, /the worker holding this actor was lost/);
  // the actor's key erred: it is not recomputed
  const e3 = await rejection(future.then((x) => x));
  assert.ok(e3 instanceof ActorLostError, String(e3));
  assert.equal(future.status, "error");
});
