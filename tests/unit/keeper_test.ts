// A worker command's keeper: retries with backoff, restarts a lost worker, gives up past the
// death timeout, and stops at once whatever it is doing.
import assert from "node:assert/strict";
import {
  type KeeperOptions,
  type KeptWorker,
  type WorkerEnd,
  WorkerKeeper,
} from "../../worker/keeper.ts";
import { until } from "../integration/helpers.ts";

/** A worker that ends when the test says so. */
function fakeWorker(address: string) {
  const end = Promise.withResolvers<WorkerEnd>();
  const w = {
    address,
    ended: end.promise,
    stops: 0,
    stop() {
      w.stops++;
      return Promise.resolve();
    },
    end: (e: WorkerEnd) => end.resolve(e),
  };
  return w;
}

const fast = { initial: 1, max: 2 };

function keeper(o: Partial<KeeperOptions> & Pick<KeeperOptions, "start">) {
  const logs: string[] = [];
  const started: KeptWorker[] = [];
  const k = new WorkerKeeper({
    name: "w",
    scheduler: "tcp://127.0.0.1:1",
    backoff: fast,
    log: (l) => logs.push(l),
    onStarted: (w) => started.push(w),
    ...o,
  });
  return { k, logs, started };
}

Deno.test("keeper: a start that fails is tried again with backoff until it works", async () => {
  let calls = 0;
  const w = fakeWorker("tcp://a:1");
  const { k, logs, started } = keeper({
    start: () => ++calls < 3 ? Promise.reject(new Error("name taken")) : Promise.resolve(w),
  });
  await until(() => started.length === 1, "the third start", 5000);
  assert.equal(calls, 3);
  assert.equal(logs.length, 2);
  assert.match(logs[0], /^Worker w could not start: name taken; trying again in \d+ ms$/);
  w.end("done"); // retired: not started again
  assert.equal(await k.outcome, "done");
  assert.equal(calls, 3);
  assert.equal(w.stops, 1);
});

Deno.test("keeper: a lost worker is started again; one asked to restart, at once", async () => {
  const workers = [fakeWorker("tcp://a:1"), fakeWorker("tcp://a:2"), fakeWorker("tcp://a:3")];
  let calls = 0;
  const { k, logs, started } = keeper({ start: () => Promise.resolve(workers[calls++]) });
  const next = (n: number) => until(() => started.length === n, `start ${n}`, 5000);
  await next(1);
  workers[0].end({ lost: "worker process 7 died (exit code 1)" });
  await next(2);
  assert.match(logs.at(-1)!, /^Worker w: worker process 7 died \(exit code 1\); starting it again/);
  workers[1].end("restart");
  await next(3);
  assert.equal(logs.length, 1);
  assert.equal(await k.stop(), "stopped");
  assert.deepEqual(workers.map((w) => w.stops > 0), [true, true, true]);
});

Deno.test("keeper: past the death timeout without a start it gives up and says so", async () => {
  const budgets: number[] = [];
  const { k, logs } = keeper({
    deathTimeout: 40,
    start: async ({ deathTimeout }) => {
      budgets.push(deathTimeout!);
      await new Promise((r) => setTimeout(r, 5));
      throw new Error("connection refused");
    },
  });
  assert.equal(await k.outcome, "scheduler-gone");
  assert.equal(
    logs.at(-1),
    "Worker w: the scheduler at tcp://127.0.0.1:1 was gone for more than 0.04 s " +
      "(--death-timeout); exiting",
  );
  assert.ok(budgets.length >= 1 && budgets[0] <= 40);
  assert.ok(budgets.every((b, i) => i === 0 || b < budgets[i - 1]), String(budgets));
});

Deno.test("keeper: stop() ends a start in progress and a wait between attempts", async () => {
  const starting = Promise.withResolvers<void>();
  const a = keeper({
    start: ({ signal }) =>
      new Promise((_, reject) => {
        starting.resolve();
        signal.addEventListener("abort", () => reject(signal.reason));
      }),
  });
  await starting.promise;
  assert.equal(await a.k.stop(), "stopped");

  const failed = Promise.withResolvers<void>();
  const b = keeper({
    backoff: { initial: 60_000, max: 60_000 },
    start: () => {
      failed.resolve();
      return Promise.reject(new Error("refused"));
    },
  });
  await failed.promise;
  assert.equal(await b.k.stop(), "stopped"); // not after a minute
  assert.equal(b.logs.length, 1);
});
