// Bad input to Queue, Variable and Event: a clear TypeError at the call that names what is
// wrong, from the client and from inside a task; the scheduler goes on serving.
import assert from "node:assert/strict";
import { Client, Event, LocalCluster, Queue, SerializationError, Variable } from "../../mod.ts";

function start() {
  return LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
}

/** A TypeError whose message matches `re`. */
const typeError = (re: RegExp) => (e: Error) => {
  assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`);
  assert.match(e.message, re);
  return true;
};

const BAD_TIMEOUTS: unknown[] = ["1s", -1, NaN, null, true, {}];

Deno.test("shared values: bad names and options fail at construction", () => {
  assert.throws(() => new Queue(42 as never), typeError(/Queue: the name must be a string/));
  assert.throws(
    () => new Variable({ client: 1 } as never),
    typeError(/Variable: the name must be a string.*options come second/),
  );
  assert.throws(
    () => new Event("e", 5 as never),
    typeError(/Event: the options must be an object/),
  );
  assert.throws(
    () => new Queue("q", { maxsize: 1, timeout: 5 } as never),
    typeError(/Queue: unknown option "timeout" \(its options: client, maxsize\)/),
  );
  for (const maxsize of [-1, 1.5, "2", null, Infinity]) {
    assert.throws(
      () => new Queue("q", { maxsize: maxsize as number }),
      typeError(/Queue: the maxsize option must be a whole number >= 0/),
      String(maxsize),
    );
  }
  assert.throws(
    () => new Event("e", { client: "tcp://127.0.0.1:8786" as never }),
    typeError(/Event: the client option must be a Client, got string/),
  );
  // left out, names are unique; maxsize defaults to 0 (unbounded)
  const a = new Queue(), b = new Queue();
  assert.notEqual(a.name, b.name);
  assert.equal(a.maxsize, 0);
  assert.match(new Variable().name, /^variable-/);
  assert.match(new Event().name, /^event-/);
});

Deno.test("shared values: bad timeouts, batches and values fail at the call; the scheduler goes on", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  const q = new Queue<unknown>("q", { client, maxsize: 2 });
  const v = new Variable("v", { client });
  const e = new Event("e", { client });
  for (const timeout of BAD_TIMEOUTS) {
    const t = { timeout: timeout as number };
    await assert.rejects(q.put(1, t), typeError(/Queue\.put: the timeout option must be a number/));
    await assert.rejects(q.get(t), typeError(/Queue\.get: the timeout option/));
    await assert.rejects(v.get(t), typeError(/Variable\.get: the timeout option/));
    await assert.rejects(e.wait(t), typeError(/Event\.wait: the timeout option/));
  }
  for (const batch of [0, -1, 1.5, "2", null]) {
    await assert.rejects(
      q.get({ batch: batch as number }),
      typeError(/Queue\.get: the batch option must be a boolean or a whole number >= 1/),
    );
  }
  await assert.rejects(q.get({ batch: 3 }), typeError(/can never be served.*maxsize/));
  await assert.rejects(q.get({ timout: 5 } as never), typeError(/unknown option "timout"/));
  await assert.rejects(e.wait("soon" as never), typeError(/the options must be an object/));
  // a value that cannot travel, and a Future of another client
  await assert.rejects(
    q.put({ f: () => 1 }),
    (err: Error) =>
      err instanceof SerializationError &&
      /Queue "q"\.put: the value \.f is a function/.test(err.message),
  );
  await using other = await Client.connect(cluster);
  const foreign = other.submit((x: number) => x, 1);
  await assert.rejects(v.set(foreign), typeError(/belongs to another client/));
  // none of it reached the scheduler's state; everything still works
  assert.equal(await q.qsize(), 0);
  await q.put("fine");
  assert.equal(await q.get({ timeout: 0 }), "fine");
  await v.set(1);
  assert.equal(await v.get(), 1);
  assert.equal(await e.wait({ timeout: 0 }), false);
});

Deno.test("shared values: bad input inside a task fails that task with the same errors", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  await assert.rejects(
    async () => await client.submit(() => new Queue("t", { maxsize: -3 })),
    typeError(/maxsize option must be a whole number/),
  );
  await assert.rejects(
    async () => await client.submit(() => new Event("t").wait({ timeout: "1s" as never })),
    typeError(/Event\.wait: the timeout option/),
  );
  assert.equal(await client.submit(() => new Event("t").wait({ timeout: 0 })), false);
});
