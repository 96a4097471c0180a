// A worker command (200 workers in one process, or 2 with nannies) whose one worker cannot start
// keeps its other workers, and keeps trying the
// failed one (with backoff) until it can join: here the scheduler refuses it because another
// worker holds its name, then that worker leaves.
import assert from "node:assert/strict";
import { Client, Scheduler, Worker } from "../../mod.ts";
import { root, spawnDeno, stop } from "./cli_process.ts";
import { readUntil, until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const names = (s: Scheduler) =>
  [...schedulerState(s).workers.values()].map((w) => w.info.name).sort();

for (const nanny of [false, true]) {
  const how = nanny ? "with nannies" : "--no-nanny";
  Deno.test(`worker CLI (${how}): one worker refused at start; the others run, it joins later`, async () => {
    const scheduler = await Scheduler.start({ dashboardAddress: null });
    const squatter = await Worker.start({ scheduler: scheduler.address, nthreads: 1, name: "w-1" });
    const cli = spawnDeno([
      new URL("worker/main.ts", root).href,
      scheduler.address,
      "--nworkers",
      nanny ? "2" : "200",
      "--nthreads",
      "1",
      "--name",
      "w",
      ...(nanny ? [] : ["--no-nanny"]),
    ]);
    try {
      await readUntil(cli.errLines, /^Worker w-1 could not start: .*; trying again in \d+ ms$/);
      const others = nanny
        ? ["w-0"]
        : Array.from({ length: 200 }, (_, i) => `w-${i}`).filter((n) => n !== "w-1");
      await until(() => names(scheduler).join() === [...others, "w-1"].sort().join(), "the others");
      await squatter.close();
      await until(
        () =>
          [...schedulerState(scheduler).workers.values()].some((w) =>
            w.info.name === "w-1" && w.address !== squatter.address
          ),
        "the refused worker to join once its name is free",
      );
      assert.deepEqual(names(scheduler), [...others, "w-1"].sort());
      // every worker works (and its thread has loaded, so the command stops at once)
      await using client = await Client.connect(scheduler.address);
      const n = 2 * (others.length + 1);
      const results = await client.gather(client.map((x: number) => x * 2, [...Array(n).keys()]));
      assert.equal(results[n - 1], 2 * (n - 1));
    } finally {
      assert.equal((await stop(cli)).code, 0);
      await squatter.close();
      await scheduler.close();
    }
  });
}
