// A program that forgets close() / `await using` ends by itself once it has nothing left to do
// but dtask's own sockets, timers and child processes: the LocalCluster it started is closed,
// with a one-line warning that names `await using`, and no worker process is left behind.
import assert from "node:assert/strict";
import { alive, until } from "./helpers.ts";
import { LocalCluster } from "../../mod.ts";

const PROGRAM = new URL("../fixtures/forgetful_program.ts", import.meta.url).href;

async function runForgetful(mode: string): Promise<{ out: string; err: string; pids: number[] }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROGRAM, mode],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  // it must end by itself; the deadline only keeps a regression from hanging the suite
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const output = await child.output();
  clearTimeout(killer);
  const out = new TextDecoder().decode(output.stdout);
  const err = new TextDecoder().decode(output.stderr);
  assert.equal(output.signal, null, `killed at the deadline: it hung\n${out}\n${err}`);
  assert.equal(output.code, 0, `${out}\n${err}`);
  const pids = JSON.parse(/^pids (.*)$/m.exec(out)?.[1] ?? "[]") as number[];
  return { out, err, pids };
}

Deno.test("a program that forgets to close its LocalCluster and Client exits, closing the cluster", async () => {
  const { out, err, pids } = await runForgetful("cluster");
  assert.match(out, /^result 2,3,4$/m);
  assert.equal(pids.length, 2);
  const warnings = err.split("\n").filter((l) => l.includes("was not closed"));
  assert.equal(warnings.length, 1, err);
  assert.match(warnings[0], /LocalCluster at tcp:\/\/127\.0\.0\.1:\d+ was not closed.*await using/);
  await until(() => pids.every((p) => !alive(p)), "the worker processes to be gone");
});

Deno.test("a program whose Client.connect() started its own cluster exits when it forgets close()", async () => {
  const { out, err } = await runForgetful("client");
  assert.match(out, /^result 42$/m);
  assert.match(err, /was not closed.*await using/);
});

Deno.test("a LocalCluster.start that fails on a bad option leaves no timer behind", async () => {
  // the timer that held the program open while it started goes at once, not at its next check
  await assert.rejects(
    LocalCluster.start({ dashboardPrefix: "/a b", dashboardAddress: null }),
    TypeError,
  );
});
