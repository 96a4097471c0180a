// Queues through the public API with real LocalClusters: first in, first out across clients and
// tasks, timeouts, batches, full queues, and Futures kept alive until they are taken.
import assert from "node:assert/strict";
import { CancelledError, Client, LocalCluster, Queue, TimeoutError } from "../../mod.ts";
import { until } from "./helpers.ts";

const inc = (x: number) => x + 1;

function start(nWorkers = 1, threadsPerWorker = 1) {
  return LocalCluster.start({
    nWorkers,
    threadsPerWorker,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
}

/** Whether some worker holds `key`'s value. */
async function held(client: Client, key: string): Promise<boolean> {
  return Object.values(await client.hasWhat()).some((keys) => keys.includes(key));
}

// Ports test_queues.py::test_queue: queues of the same name share their values.
Deno.test("Queue: values come out first in, first out, across two clients", async () => {
  await using cluster = await start();
  await using c1 = await Client.connect(cluster);
  await using c2 = await Client.connect(cluster);
  const q1 = new Queue<string>("shared", { client: c1 });
  const q2 = new Queue<string>("shared", { client: c2 });
  await q1.put("a");
  await q2.put("b");
  await q1.put("c");
  assert.equal(await q2.qsize(), 3);
  assert.deepEqual([await q2.get(), await q1.get(), await q2.get()], ["a", "b", "c"]);
  assert.equal(await q1.qsize(), 0);
  // any value dtask can send
  const value = { n: 1n << 70n, when: new Date(0), bytes: new Uint8Array([1, 2]), m: new Map() };
  await new Queue("any", { client: c1 }).put(value);
  assert.deepEqual(await new Queue("any", { client: c2 }).get(), value);
});

Deno.test("Queue: a task puts, the client gets in order; the client puts, a task gets in order", async () => {
  // one thread each: a task that waits gives its thread back to the tasks queued behind it
  await using cluster = await start(2);
  await using client = await Client.connect(cluster);
  // a task puts 0..9 (naming the queue: no import, no client)
  await client.submit(async (n: number) => {
    const q = new Queue("to-client");
    for (let i = 0; i < n; i++) await q.put(i);
  }, 10);
  const q = new Queue<number>("to-client", { client });
  assert.deepEqual(await q.get({ batch: 10, timeout: 0 }), [...Array(10).keys()]);

  // the client puts; a task that was handed the queue gets them, in order
  const toTask = new Queue<number>("to-task", { client });
  for (let i = 0; i < 10; i++) await toTask.put(i * 10);
  const taken = client.submit(async (q: Queue<number>) => {
    const out: number[] = [];
    for (let i = 0; i < 10; i++) out.push(await q.get());
    return out;
  }, toTask);
  assert.deepEqual(await taken, [...Array(10).keys()].map((i) => i * 10));

  // tasks on both workers put while another task waits to get them all
  const collector = client.submit((n: number) => new Queue<number>("many").get({ batch: n }), 8);
  await client.gather(client.map((i: number) => new Queue("many").put(i), [...Array(8).keys()]));
  assert.deepEqual((await collector).sort((a, b) => a - b), [...Array(8).keys()]);
});

// Ports test_queues.py::test_timeout.
Deno.test("Queue: get on an empty queue rejects with a TimeoutError after its timeout", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const q = new Queue("empty", { client });
  await assert.rejects(
    q.get({ timeout: 100 }),
    (e: Error) => e instanceof TimeoutError && /Queue "empty": no value came/.test(e.message),
  );
  await assert.rejects(q.get({ timeout: 0 }), TimeoutError); // 0: one look
  // a get that waits is served by a later put
  const later = q.get({ timeout: 30_000 });
  await q.put("late");
  assert.equal(await later, "late");
});

// Ports test_queues.py::test_get_many.
Deno.test("Queue: get with batch true gives every value now; batch n waits for n", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const q = new Queue<number>("batch", { client });
  assert.deepEqual(await q.get({ batch: true }), []); // empty: at once
  for (const i of [1, 2, 3]) await q.put(i);
  assert.deepEqual(await q.get({ batch: true }), [1, 2, 3]);
  await q.put(4);
  const two = q.get({ batch: 2 });
  await q.put(5);
  assert.deepEqual(await two, [4, 5]);
  await q.put(6);
  await assert.rejects(q.get({ batch: 2, timeout: 50 }), TimeoutError);
  assert.equal(await q.qsize(), 1); // a batch that timed out took nothing
  assert.deepEqual(await q.get({ batch: 1 }), [6]);
});

// Ports test_queues.py::test_queue (maxsize: put on a full queue times out).
Deno.test("Queue: put on a full queue waits for room, or rejects with a TimeoutError", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const q = new Queue<number>("full", { client, maxsize: 1 });
  await q.put(1);
  await assert.rejects(
    q.put(2, { timeout: 100 }),
    (e: Error) => e instanceof TimeoutError && /stayed full \(maxsize 1\)/.test(e.message),
  );
  await assert.rejects(q.put(2, { timeout: 0 }), TimeoutError);
  assert.equal(await q.qsize(), 1);
  const waiting = q.put(3); // waits for room
  assert.equal(await q.get(), 1);
  await waiting;
  assert.equal(await q.get(), 3);
  // another maxsize for the same name is an error that says so
  await q.put(7);
  const other = new Queue("full", { client, maxsize: 2 });
  await assert.rejects(
    other.put(1),
    (e: Error) => e instanceof TypeError && /exists with maxsize 1.*maxsize 2/.test(e.message),
  );
  await assert.rejects(other.qsize(), TypeError);
});

// Ports test_queues.py::test_queue_with_data / "a queued future keeps its key alive".
Deno.test("Queue: a Future put keeps its data alive until it is taken, then lets it go", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const q = new Queue<number>("futures", { client });
  const f = client.submit(inc, 10);
  await f;
  const key = f.key;
  await q.put(f);
  f.release(); // the client no longer wants it: the queue does
  assert.equal(await q.qsize(), 1); // answered after the release (sent before it)
  assert.ok(await held(client, key), "the queued key was let go");
  assert.equal(await q.get(), 11);
  await until(async () => !(await held(client, key)), "the taken key to be let go");
  // a Future inside a value, put before its task finished
  const slow = client.submit(async (x: number) => {
    await new Promise((r) => setTimeout(r, 50));
    return x * 2;
  }, 21);
  const mixed = new Queue("mixed", { client });
  await mixed.put({ answer: slow, list: [slow, 1] });
  slow.release();
  assert.deepEqual(await mixed.get(), { answer: 42, list: [42, 1] });
});

// Ports test_queues.py::test_hold_futures.
Deno.test("Queue: c1 puts a Future and closes; c2 gets its value", async () => {
  await using cluster = await start();
  const c1 = await Client.connect(cluster);
  await new Queue("hold", { client: c1 }).put(c1.submit(inc, 10));
  await c1.close();
  await using c2 = await Client.connect(cluster);
  assert.equal(await new Queue("hold", { client: c2 }).get(), 11);
});

Deno.test("Queue: a cancelled Future is refused at put with an error that says what to do", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const q = new Queue("refused", { client });
  const f = client.submit(inc, 1);
  await client.cancel(f);
  await assert.rejects(
    q.put(f),
    (e: Error) => e instanceof CancelledError && /submit the task again/.test(e.message),
  );
  assert.equal(await q.qsize(), 0);
});

Deno.test("Queue: the waiting get of a client that closed takes nothing", async () => {
  await using cluster = await start();
  const c1 = await Client.connect(cluster);
  await using c2 = await Client.connect(cluster);
  const pending = new Queue("left", { client: c1 }).get();
  const failed = pending.then(() => "resolved", (e: Error) => e.name);
  await new Queue("left", { client: c1 }).qsize(); // the get is waiting on the scheduler
  await c1.close();
  assert.equal(await failed, "CommClosedError");
  const q = new Queue("left", { client: c2 });
  await q.put("kept");
  assert.equal(await q.get({ timeout: 0 }), "kept");
});
