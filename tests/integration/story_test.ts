/**
 * `story`: the scheduler's log and its workers' tell, step by step and with the stimulus behind
 * each step, how a task survived the SIGKILL of the worker it ran on, and how that worker left.
 */
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import type { StoryRecord } from "../../mod.ts";
import { until } from "./helpers.ts";

/** The first record at or after `from` that `match`es; fails naming `what` when there is none. */
function find(
  records: StoryRecord[],
  from: number,
  what: string,
  match: (e: StoryRecord) => boolean,
): number {
  const i = records.findIndex((e, j) => j >= from && match(e));
  assert.ok(i >= 0, `no ${what} after entry ${from} in:\n${JSON.stringify(records, null, 1)}`);
  return i;
}

Deno.test("story: a pinned task whose worker is SIGKILLed finishes on the other worker; each step has its stimulus", async () => {
  await using cluster = await LocalCluster.start({
    dashboardAddress: null,
    silenceLogs: true,
    processes: true,
    nWorkers: 2,
    threadsPerWorker: 1,
  });
  await using client = await Client.connect(cluster);
  const dir = await Deno.makeTempDir();
  try {
    const [pinned] = cluster.workers;
    const marker = `${dir}/started-by`;
    // the first run writes its process id and hangs; the run after the kill returns at once
    const f = client.with({ workers: [pinned.address], allowOtherWorkers: true }).submit(
      async (path: string) => {
        try {
          await Deno.stat(path);
          return `done by ${Deno.pid}`;
        } catch {
          await Deno.writeTextFile(path, String(Deno.pid));
          await new Promise((r) => setTimeout(r, 120_000));
          return "never";
        }
      },
      marker,
    );
    let pid = 0;
    await until(async () => {
      pid = Number(await Deno.readTextFile(marker).catch(() => "0"));
      return pid > 0;
    }, "the task to start");
    const victim = cluster.workers.find((w) => w.pid === pid);
    assert.ok(victim, `the worker running the task (pid ${pid}) is in the cluster`);
    Deno.kill(victim.pid, "SIGKILL");
    const result = await f;
    const survivor = cluster.workers.find((w) => w.address !== victim.address && w.pid !== pid);
    assert.ok(survivor);
    assert.match(result, /^done by \d+$/);
    assert.notEqual(result, `done by ${pid}`, "not by the killed process");

    const told = await client.story(f, victim.address);
    for (const e of told) {
      assert.match(e.stimulusId, /^[a-z-]+-\d+$/, `a stimulus id: ${JSON.stringify(e)}`);
      assert.equal(typeof e.time, "number");
    }
    const on = (k: string, start: string, finish: string) => (e: StoryRecord) =>
      e.key === k && e.start === start && e.finish === finish;
    const ran = find(
      told,
      0,
      "processing on the victim",
      (e) => on(f.key, "waiting", "processing")(e) && e.worker === victim.address,
    );
    const removed = find(
      told,
      ran,
      "the victim's removal",
      (e) => e.worker === victim.address && e.event === "removed",
    );
    const released = find(
      told,
      removed,
      "processing -> released",
      on(f.key, "processing", "released"),
    );
    assert.equal(
      told[released].stimulusId,
      told[removed].stimulusId,
      "the removal released the task",
    );
    const waiting = find(told, released, "released -> waiting", on(f.key, "released", "waiting"));
    const again = find(told, waiting, "processing again", on(f.key, "waiting", "processing"));
    assert.notEqual(told[again].worker, victim.address, "placed on another worker");
    const done = find(told, again, "processing -> memory", on(f.key, "processing", "memory"));
    assert.equal(told[done].worker, told[again].worker);
    assert.match(told[done].stimulusId, /^task-finished-\d+$/);
    // the survivor's own log, caused by the scheduler's stimulus that sent it the task
    const got = find(
      told,
      again,
      "the survivor's compute-task",
      (e) => e.key === f.key && e.cause === told[again].stimulusId,
    );
    assert.equal(told[got].worker, told[again].worker);
    assert.match(told[got].stimulusId, /^compute-task-\d+$/);
    find(
      told,
      got,
      "executing -> memory on the survivor",
      (e) => on(f.key, "executing", "memory")(e) && e.worker === told[again].worker,
    );

    const worker = await client.story(victim.address);
    assert.deepEqual(worker.map((e) => e.event), ["added", "removed"]);
    assert.match(worker[1].reason!, /killed by signal SIGKILL/);
    const named = await client.story(victim.name); // its successor, restarted by its nanny, too
    assert.ok(named.some((e) => e.worker === victim.address && e.event === "removed"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
