// Variables and events through the public API with real LocalClusters: a Variable holding a
// Future beyond its setter, get timeouts, delete letting the data go; an Event releasing a
// waiting task, wait timeouts.
import assert from "node:assert/strict";
import {
  CancelledError,
  Client,
  Event,
  LocalCluster,
  Queue,
  TimeoutError,
  Variable,
} from "../../mod.ts";
import { until } from "./helpers.ts";

const inc = (x: number) => x + 1;

function start(nWorkers = 1) {
  return LocalCluster.start({
    nWorkers,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
}

/** Whether some worker holds `key`'s value. */
async function held(client: Client, key: string): Promise<boolean> {
  return Object.values(await client.hasWhat()).some((keys) => keys.includes(key));
}

// ---- variables ----------------------------------------------------------------------------------

// Ports test_variable.py::test_variable: another handle of the same name gets the value.
Deno.test("Variable: set from one client, get from another and from a task", async () => {
  await using cluster = await start();
  await using c1 = await Client.connect(cluster);
  await using c2 = await Client.connect(cluster);
  const x = new Variable<{ n: number }>("x", { client: c1 });
  await x.set({ n: 1 });
  assert.deepEqual(await new Variable("x", { client: c2 }).get(), { n: 1 });
  await x.set({ n: 2 }); // overwritten
  assert.deepEqual(await c2.submit(() => new Variable("x").get()), { n: 2 });
  // a task sets it; a handle passed to a task is the same variable
  await c2.submit((v: Variable<{ n: number }>) => v.set({ n: 3 }), x);
  assert.deepEqual(await x.get(), { n: 3 });
});

// Ports test_variable.py::test_hold_futures.
Deno.test("Variable: c1 sets a Future and closes; c2 gets its value 11", async () => {
  await using cluster = await start();
  const c1 = await Client.connect(cluster);
  await new Variable("held", { client: c1 }).set(c1.submit(inc, 10));
  await c1.close();
  await using c2 = await Client.connect(cluster);
  assert.equal(await new Variable<number>("held", { client: c2 }).get(), 11);
  assert.equal(await new Variable<number>("held", { client: c2 }).get(), 11); // it stays set
});

// Ports test_variable.py::test_timeout.
Deno.test("Variable: get on an unset variable rejects with a TimeoutError after its timeout", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const v = new Variable("unset", { client });
  await assert.rejects(
    v.get({ timeout: 100 }),
    (e: Error) => e instanceof TimeoutError && /Variable "unset" was not set/.test(e.message),
  );
  await assert.rejects(v.get({ timeout: 0 }), TimeoutError);
  // a get that waits is served when it is set
  const later = v.get();
  await new Variable("unset", { client }).set("now");
  assert.equal(await later, "now");
});

// Ports test_variable.py::test_cleanup.
Deno.test("Variable: delete lets the Future's data go; overwriting lets the former one go", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const v = new Variable<number>("cleanup", { client });
  const f = client.submit(inc, 1);
  await f;
  await v.set(f);
  f.release();
  await v.get(); // answered after the release, sent before it
  assert.ok(await held(client, f.key), "the variable's key was let go");
  await v.delete();
  await until(async () => !(await held(client, f.key)), "the deleted variable's key to go");
  await assert.rejects(v.get({ timeout: 0 }), TimeoutError);

  const g = client.submit(inc, 2);
  await v.set(g);
  g.release();
  await v.set(100);
  await until(async () => !(await held(client, g.key)), "the overwritten key to go");
  assert.equal(await v.get(), 100);
});

// Ports test_variable.py::test_set_cancelled_future (a clear error at once, not a timeout).
Deno.test("Variable: setting a cancelled or erred Future fails at once, saying what to do", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const v = new Variable("bad", { client });
  const f = client.submit(inc, 1);
  await client.cancel(f);
  await assert.rejects(
    v.set(f),
    (e: Error) =>
      e instanceof CancelledError && /was cancelled.*submit the task again/.test(e.message),
  );
  const boom = client.submit(() => {
    throw new RangeError("boom");
  });
  await assert.rejects(async () => await boom, RangeError);
  await assert.rejects(
    v.set(boom),
    (e: Error) => e instanceof TypeError && /erred/.test(e.message),
  );
  await assert.rejects(v.get({ timeout: 0 }), TimeoutError); // nothing was set
});

// ---- events -------------------------------------------------------------------------------------

// Ports test_events.py::test_event_on_workers.
Deno.test("Event: a task waiting on Event('go') finishes true once the client sets it", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const go = new Event("go", { client });
  const started = new Queue<string>("started", { client });
  const waiting = client.submit(async () => {
    await new Queue("started").put("waiting");
    return await new Event("go").wait();
  });
  assert.equal(await started.get(), "waiting"); // the task is in its wait
  assert.equal(await go.isSet(), false);
  assert.equal(waiting.status, "pending");
  await go.set();
  assert.equal(await waiting, true);
  assert.equal(await go.isSet(), true);
});

Deno.test("Event: a task that dispatches DOM events on an EventTarget keeps the global Event", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const dispatch = () => {
    const target = new EventTarget();
    let heard = "";
    target.addEventListener("ping", (e) => heard = e.type);
    target.dispatchEvent(new Event("ping") as never); // the global Event, in the task
    return heard;
  };
  assert.equal(await client.submit(dispatch), "ping");
});

// Ports test_events.py::test_set_not_set / test_timeout.
Deno.test("Event: wait gives false at its timeout before set, true after; clear resets", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const waitInTask = (timeout: number) => new Event("x").wait({ timeout });
  assert.equal(await client.submit(waitInTask, 50), false);
  const e = new Event("x", { client });
  assert.equal(await e.wait({ timeout: 0 }), false);
  await e.set();
  assert.equal(await client.submit(waitInTask, 30_000), true); // another key: a new task
  assert.equal(await e.wait(), true);
  await e.clear();
  assert.equal(await e.isSet(), false);
  assert.equal(await e.wait({ timeout: 20 }), false);
  // an Event handed to a task is the same event
  await e.set();
  assert.equal(await client.submit((ev: Event) => ev.isSet(), e), true);
});
