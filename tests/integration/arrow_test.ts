// apache-arrow Tables as task values, with nobody calling loadArrow(): built in a task on one
// worker process, read by a task on another, gathered by the client; and a client's own Table
// scattered and passed to tasks. apache-arrow is imported lazily in each realm (client, worker
// thread) the first time a Table reaches it; the client with its own Table runs in a process of
// its own, so that it meets the Table before apache-arrow is loaded whatever ran before.
import assert from "node:assert/strict";
import type { Table } from "apache-arrow";
import { Client, LocalCluster } from "../../mod.ts";

const ROWS = 100_000;
const PROGRAM = new URL("../fixtures/arrow_client_program.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url);
const SUM = (ROWS * (ROWS - 1)) / 2;

/** A task: a Table of `n` rows, x = 0..n-1 (Float64) and i = the same as Int32. */
async function makeTable(n: number) {
  const arrow = await import("apache-arrow");
  const x = new Float64Array(n);
  const i = new Int32Array(n);
  for (let k = 0; k < n; k++) x[k] = i[k] = k;
  return arrow.tableFromArrays({ x, i });
}

/** A task: the sum of column x of a Table it receives (a Table, not bytes). */
function sumX(t: Table) {
  if (t?.constructor?.name !== "Table") throw new TypeError(`got ${t?.constructor?.name}`);
  let s = 0;
  for (const v of t.getChild("x")!) s += v as number;
  return { rows: t.numRows, sum: s };
}

function start() {
  return LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    dashboardAddress: null,
    silenceLogs: true,
  });
}

Deno.test("a Table from a client that never loaded apache-arrow: scattered, an argument of submit and of a graph task", async () => {
  await using cluster = await start();
  const [a, b] = cluster.workers.map((w) => w.address);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG.pathname, PROGRAM, cluster.schedulerAddress, a, b],
    env: { NO_COLOR: "1" },
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  const seen = JSON.parse(new TextDecoder().decode(out.stdout));
  const expected = { rows: ROWS, sum: SUM };
  assert.deepEqual(seen.fromScatter, expected);
  assert.deepEqual(seen.direct, expected);
  assert.deepEqual(seen.graph, expected);
  assert.deepEqual(seen.holders, [a]);
  assert.equal(seen.scatteredRows, ROWS);
  // before apache-arrow was in, a Table's content could not be hashed: a key of its own each
  assert.notEqual(seen.keys[0], seen.keys[1]);
  assert.equal(seen.hashed[0], seen.hashed[1]);
  assert.match(seen.hashed[0], /^Table-/);
});

Deno.test("an Arrow Table built on one worker process is read by a task on another and gathered by the client", async () => {
  await using cluster = await start();
  await using client = await Client.connect(cluster);
  assert.equal(new Set(cluster.workerPids).size, 2, "two worker processes");
  const [a, b] = cluster.workers.map((w) => w.address);
  const table = client.with({ workers: [a], allowOtherWorkers: false }).submit(makeTable, ROWS);
  const sum = client.with({ workers: [b], allowOtherWorkers: false }).submit(sumX, table);
  assert.deepEqual(await sum, { rows: ROWS, sum: SUM });
  assert.deepEqual(await client.whoHas([table, sum]), { [table.key]: [a], [sum.key]: [b] });

  const got = await table;
  assert.equal(got.constructor.name, "Table");
  assert.equal(got.numRows, ROWS);
  assert.deepEqual(got.schema.fields.map((f) => f.name), ["x", "i"]);
  assert.equal(got.getChild("i")!.get(ROWS - 1), ROWS - 1);
  const [again] = await client.gather([table]);
  assert.equal(again.numRows, ROWS);
});
