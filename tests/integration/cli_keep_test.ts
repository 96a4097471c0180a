// A worker command (50 workers in one process, or 2 with nannies) whose one worker cannot start
// keeps its other workers, and keeps trying the
// failed one (with backoff) until it can join: here the scheduler refuses it because another
// worker holds its name, then that worker leaves.
import assert from "node:assert/strict";
import { Client, Scheduler, Worker } from "../../mod.ts";
import { root, spawnDeno, stop } from "./cli_process.ts";
import { readUntil, until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

/**
 * Workers in one --no-nanny process. 50: with 200, one start or stop in three or four on this
 * 2-core machine took 7-15 s instead of under 1 s (threads of 200 workers in one process), and a
 * stop past the CLI's 2.5 s deadline exits 1.
 */
const IN_PROCESS = 50;

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
      nanny ? "2" : String(IN_PROCESS),
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
        : Array.from({ length: IN_PROCESS }, (_, i) => `w-${i}`).filter((n) => n !== "w-1");
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
      // every worker runs a task of its own (so each thread has loaded: a process exits slowly
      // while threads are still loading their modules)
      await using client = await Client.connect(scheduler.address);
      const addresses = [...schedulerState(scheduler).workers.keys()].filter((a) =>
        a !== squatter.address
      );
      const pinned = addresses.map((a, i) =>
        client.with({ workers: [a], allowOtherWorkers: false }).submit((x: number) => x * 2, i)
      );
      const results = await client.gather(pinned);
      assert.deepEqual(results, addresses.map((_, i) => 2 * i));
    } finally {
      const { code } = await stop(cli);
      assert.equal(
        code,
        0,
        `the worker CLI exited with ${code}:\n${(await cli.errText).slice(-3000)}`,
      );
      await squatter.close();
      await scheduler.close();
    }
  });
}
