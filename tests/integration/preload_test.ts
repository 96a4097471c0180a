// Preload: modules every worker imports (cluster option, client.preload, worker --preload),
// also workers that join later; a submitted function that is an export of a preloaded module
// runs as that export, with its imports.
import assert from "node:assert/strict";
import { Client, LocalCluster, ScopeError } from "../../mod.ts";
import { greet, greetLater } from "../fixtures/preload_mod.ts";

const MOD = new URL("../fixtures/preload_mod.ts", import.meta.url).href;
const opts = { dashboardAddress: null, silenceLogs: true } as const;

Deno.test("preload (cluster option): an export of the module runs with its imports", async () => {
  await using cluster = await LocalCluster.start({
    ...opts,
    nWorkers: 2,
    threadsPerWorker: 1,
    preload: [MOD],
  });
  await using client = await Client.connect(cluster);
  assert.equal(await client.submit(greet, "ab"), "hello from a preloaded module, aabb");
  assert.deepEqual(
    await client.gather(client.map(greetLater, ["x", "y", "z"])),
    ["x", "y", "z"].map((n) => `hello from a preloaded module, ${n}${n}`),
  );
  // every worker imported it
  const seen = await client.gather(
    cluster.workers.map((w) =>
      client.with({ workers: w.address, pure: false }).submit(() =>
        (globalThis as { dtaskPreloaded?: number }).dtaskPreloaded
      )
    ),
  );
  assert.deepEqual(seen, [1, 1]);
});

Deno.test("without preload the same function fails with a ScopeError naming the import", async () => {
  await using cluster = await LocalCluster.start({ ...opts, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  await assert.rejects(client.submit(greet, "ab").result(), (e: Error) => {
    assert.ok(e instanceof ScopeError, String(e));
    assert.match(e.message, /GREETING|stutter/);
    return true;
  });
});

Deno.test("client.preload: current workers import it, and so does one that joins later", async () => {
  await using cluster = await LocalCluster.start({
    ...opts,
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
  });
  await using client = await Client.connect(cluster);
  await client.preload(MOD);
  await client.preload(MOD); // twice: imported once
  assert.equal(await client.submit(greet, "q"), "hello from a preloaded module, qq");
  const first = cluster.workers[0].address;
  await cluster.scale(2);
  const late = cluster.workers.find((w) => w.address !== first)!.address;
  const r = await client.with({ workers: late }).submit(greetLater, "late");
  assert.equal(r, "hello from a preloaded module, llaattee");
  await assert.rejects(client.preload("./relative.ts"), /absolute module URL/);
});
