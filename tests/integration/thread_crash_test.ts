// A task that ends its thread (Deno.exit in a task ends only that thread) counts as Dask counts
// a task that kills its worker: suspicious, run again, and KilledWorker once more threads than
// `allowedFailures` died running it. Tasks queued behind it on that thread are not blamed.
import assert from "node:assert/strict";
import { KilledWorker } from "../../mod.ts";
import { genCluster } from "./dask_cluster.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;

Deno.test("a task that ends its thread is retried, then errs with KilledWorker", async () => {
  await using cl = await genCluster({ config: { allowedFailures: 1 } });
  const { c, s } = cl;
  const exits = c.with({ key: "exits-1" }).submit(() => Deno.exit(3));
  const e = await exits.then(() => null, (e) => e);
  assert.ok(e instanceof KilledWorker, String(e));
  assert.match(e.message, /Attempted to run task 'exits-1' on 2 different workers/);
  assert.match(e.message, /thread \d+ died/);
  assert.match(e.message, /Look at that worker's log/);
  const story = await c.story("exits-1");
  assert.equal(story.filter((r) => r.finish === "processing").length, 2, JSON.stringify(story));
  // the workers run on
  assert.equal(await c.submit(inc, 1), 2);
  assert.equal(schedulerState(s).workers.size, 2);
  exits.release();
});

Deno.test("a task whose thread died once runs again and succeeds", async () => {
  await using cl = await genCluster({ nthreads: [1] });
  const { c } = cl;
  const marker = await Deno.makeTempFile();
  await Deno.remove(marker);
  try {
    const once = (path: string) => {
      try {
        Deno.statSync(path);
        return "second run";
      } catch {
        Deno.writeTextFileSync(path, "ran");
        Deno.exit(3);
      }
    };
    assert.equal(await c.submit(once, marker), "second run");
  } finally {
    await Deno.remove(marker).catch(() => {});
  }
});
