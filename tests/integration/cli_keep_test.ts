// A worker command whose one worker cannot start keeps its other workers, and keeps trying the
// failed one (with backoff) until it can join: here the scheduler refuses it because another
// worker holds its name, then that worker leaves.
import assert from "node:assert/strict";
import { Scheduler, Worker } from "../../mod.ts";
import { root, spawnDeno, stop } from "./cli_process.ts";
import { readUntil, until } from "./helpers.ts";

const names = (s: Scheduler) => [...s.state.workers.values()].map((w) => w.info.name).sort();

for (const nanny of [false, true]) {
  const how = nanny ? "with nannies" : "--no-nanny";
  Deno.test(`worker CLI (${how}): one worker refused at start; the others run, it joins later`, async () => {
    const scheduler = await Scheduler.start({ dashboardAddress: null });
    const squatter = await Worker.start({ scheduler: scheduler.address, nthreads: 1, name: "w-1" });
    const cli = spawnDeno([
      new URL("worker/main.ts", root).href,
      scheduler.address,
      "--nworkers",
      nanny ? "2" : "3",
      "--nthreads",
      "1",
      "--name",
      "w",
      ...(nanny ? [] : ["--no-nanny"]),
    ]);
    try {
      await readUntil(cli.errLines, /^Worker w-1 could not start: .*; trying again in \d+ ms$/);
      const others = nanny ? ["w-0"] : ["w-0", "w-2"];
      await until(() => names(scheduler).join() === [...others, "w-1"].sort().join(), "the others");
      await squatter.close();
      await until(
        () =>
          [...scheduler.state.workers.values()].some((w) =>
            w.info.name === "w-1" && w.address !== squatter.address
          ),
        "the refused worker to join once its name is free",
      );
      assert.deepEqual(names(scheduler), [...others, "w-1"].sort());
    } finally {
      assert.equal((await stop(cli)).code, 0);
      await squatter.close();
      await scheduler.close();
    }
  });
}
