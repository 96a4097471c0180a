// A task no connected worker may run (restricted to a worker that does not exist, or needing
// resources nobody has) stays no-worker silently in Dask; dtask's scheduler says so in its log
// after a while, once per task, with the reason.
import assert from "node:assert/strict";
import { Client, Scheduler, Worker } from "../../mod.ts";
import { until } from "./helpers.ts";

const inc = (x: number) => x + 1;

Deno.test("the scheduler warns once about each task that stays unrunnable, saying why", async () => {
  const lines: string[] = [];
  const s = await Scheduler.start({
    dashboardAddress: null,
    log: (l) => lines.push(l),
    unrunnableWarning: 300,
  });
  const w = await Worker.start({
    scheduler: s.inprocAddress,
    inproc: true,
    nthreads: 1,
    name: "only",
    silenceLogs: true,
    log: () => {},
  });
  const c = await Client.connect(s.inprocAddress);
  const warnings = () => lines.filter((l) => /unrunnable/.test(l));
  try {
    const nowhere = c.with({ key: "inc-abc", workers: ["tcp://nowhere:1"] }).submit(inc, 1);
    const ghost = c.with({ key: "inc-def", workers: ["ghost"] }).submit(inc, 2);
    const gpu = c.with({ key: "inc-gpu", resources: { GPU: 1 } }).submit(inc, 3);
    const runs = c.with({ key: "inc-runs", workers: ["only"] }).submit(inc, 4);
    assert.equal(await runs, 5);
    await until(() => warnings().length >= 3, "three warnings");
    const find = (key: string) => warnings().filter((l) => l.includes(`Task ${key} `));
    assert.match(
      find("inc-abc")[0],
      /Task inc-abc has been unrunnable for \d+(\.\d+)? s: it is restricted to workers \[tcp:\/\/nowhere:1\] and no such worker is connected/,
    );
    assert.match(find("inc-def")[0], /restricted to workers \[ghost\] and no such worker/);
    assert.match(
      find("inc-gpu")[0],
      /needs resources \{"GPU":1\} and no connected worker has them/,
    );
    // once per task: a later one is reported, the first ones are not again
    const later = c.with({ key: "inc-later", workers: ["tcp://nowhere:2"] }).submit(inc, 5);
    await until(() => find("inc-later").length === 1, "the later task's warning");
    assert.equal(warnings().length, 4, warnings().join("\n"));
    assert.equal(find("inc-runs").length, 0);
    // the event log has them too
    const events = await c.getEvents("unrunnable");
    assert.equal(events.length, 4);
    c.release([nowhere, ghost, gpu, runs, later]);
  } finally {
    await c.close();
    await w.close();
    await s.close();
  }
});

Deno.test("many tasks unrunnable for the same reason make one line", async () => {
  const lines: string[] = [];
  const s = await Scheduler.start({
    dashboardAddress: null,
    log: (l) => lines.push(l),
    unrunnableWarning: 200,
  });
  const c = await Client.connect(s.inprocAddress);
  try {
    const fs = c.with({ workers: ["tcp://nowhere:1"] }).map(inc, [1, 2, 3, 4, 5, 6]);
    await until(() => lines.some((l) => /unrunnable/.test(l)), "the warning");
    const warned = lines.filter((l) => /unrunnable/.test(l));
    assert.equal(warned.length, 1, warned.join("\n"));
    assert.match(
      warned[0],
      /6 tasks \(inc-\w+, inc-\w+, inc-\w+ and 3 more\) have been unrunnable/,
    );
    assert.match(warned[0], /no such worker is connected/);
    c.release(fs);
  } finally {
    await c.close();
    await s.close();
  }
});
