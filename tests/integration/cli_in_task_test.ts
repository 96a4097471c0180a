// The command lines' --preload (worker and scheduler) and the worker's --resources.
import assert from "node:assert/strict";
import { Client, getWorker } from "../../mod.ts";
import { root, schedulerArgs, spawnDeno as spawn, stop } from "./cli_process.ts";
import { readUntil } from "./helpers.ts";
import { greet } from "../fixtures/preload_mod.ts";

const MOD = new URL("tests/fixtures/preload_mod.ts", root).href;

Deno.test("CLIs: worker --preload and --resources, scheduler --preload", async () => {
  const sched = spawn(schedulerArgs(["--preload", MOD]));
  const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
  const gpu = spawn([
    new URL("worker/main.ts", root).href,
    address,
    "--nthreads",
    "1",
    "--name",
    "gpu",
    "--resources",
    "GPU=1,MEM=2",
    "--preload",
    MOD,
  ]);
  const plain = spawn([new URL("worker/main.ts", root).href, address, "--name", "plain"]);
  try {
    await readUntil(gpu.lines, /^Worker at: tcp:\/\//);
    await readUntil(plain.lines, /^Worker at: tcp:\/\//);
    await using client = await Client.connect(address);
    const r = await client.with({ resources: { GPU: 1 } }).submit(function onGpu(_s: string) {
      return [getWorker().name, getWorker().resources];
    }, "x");
    assert.deepEqual(r, ["gpu", { GPU: 1, MEM: 2 }]);
    // the scheduler's --preload reaches the worker without --preload too
    assert.equal(
      await client.with({ workers: "plain" }).submit(greet, "cli"),
      "hello from a preloaded module, ccllii",
    );
    // and --preload on both: imported once
    const n = await client.with({ workers: "gpu" }).submit(() =>
      (globalThis as { dtaskPreloaded?: number }).dtaskPreloaded
    );
    assert.equal(n, 1);
  } finally {
    assert.equal((await stop(plain)).code, 0);
    assert.equal((await stop(gpu)).code, 0);
    assert.equal((await stop(sched)).code, 0);
  }
});
