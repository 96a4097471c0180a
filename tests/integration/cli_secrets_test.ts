// The auth token never appears on a command line (`ps` shows those to every local user): the
// CLIs read it from a file or DTASK_AUTH_TOKEN, and nannies hand it to worker processes in their
// environment.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { childPids, root, schedulerArgs, spawnDeno, stop } from "./cli_process.ts";
import { readUntil } from "./helpers.ts";

/** The pids of every process whose command line holds `secret`. */
async function showingOnCommandLine(secret: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if ((await Deno.readTextFile(`/proc/${e.name}/cmdline`)).includes(secret)) {
        pids.push(Number(e.name));
      }
    } catch { /* gone, or not ours */ }
  }
  return pids;
}

Deno.test("CLIs: the token travels by file and environment, on no process's command line", async () => {
  const token = `secret-${crypto.randomUUID()}`;
  const tokenFile = await Deno.makeTempFile();
  await Deno.writeTextFile(tokenFile, token + "\n");
  const sched = spawnDeno(schedulerArgs(["--auth-token-file", tokenFile]));
  let worker;
  try {
    const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/);
    worker = spawnDeno(
      [new URL("worker/main.ts", root).href, address, "--nworkers", "2", "--nthreads", "1"],
      { DTASK_AUTH_TOKEN: token },
    );
    await readUntil(worker.lines, /^Worker at: tcp:\/\//);
    await readUntil(worker.lines, /^Worker at: tcp:\/\//);
    // the workers did connect to a scheduler that requires the token
    await using client = await Client.connect(address, { authToken: token });
    assert.equal(Object.keys((await client.schedulerInfo()).workers).length, 2);
    assert.equal(await client.submit((x: number) => x + 1, 1), 2);
    const workerPids = childPids(worker.child.pid);
    assert.equal(workerPids.length, 2);
    for (const pid of workerPids) {
      assert.match(await Deno.readTextFile(`/proc/${pid}/cmdline`), /worker\/process\.ts/);
    }
    assert.deepEqual(await showingOnCommandLine(token), []);
  } finally {
    if (worker) assert.equal((await stop(worker)).code, 0);
    assert.equal((await stop(sched)).code, 0);
    await Deno.remove(tokenFile);
  }
});

Deno.test("LocalCluster: its worker processes get the token without a command line showing it", async () => {
  const token = `secret-${crypto.randomUUID()}`;
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    dashboardAddress: null,
    authToken: token,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster.schedulerAddress, { authToken: token });
  assert.equal(await client.submit((x: number) => x * 2, 21), 42);
  assert.equal(cluster.workerPids.length, 1);
  assert.deepEqual(await showingOnCommandLine(token), []);
});
