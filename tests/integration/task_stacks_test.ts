// A task's error, as the client gets it: its stack names the function, the file and line it was
// submitted from and the line within it, and the task's key; dtask's worker and thread frames
// are gone.
import assert from "node:assert/strict";
import { Client } from "../../mod.ts";
import { miniCluster } from "./graph_fixtures.ts";

/** The line after the one that calls this. */
function nextLine(): number {
  return Number(new Error().stack!.split("\n")[2].match(/:(\d+):\d+\)?$/)![1]) + 1;
}

const inc = (x: number) => {
  if (x > 1) throw new RangeError(`too big: ${x}`);
  return x + 1;
};

Deno.test("a task's remote stack names its function, submit site, line and key", async () => {
  await using c = await miniCluster([1]);
  await using client = await Client.connect(c.s.address);
  const line = nextLine();
  const f = client.submit(inc, 5);
  const e = await f.exception() as Error & { remoteStack: string };
  assert.equal(e.name, "RangeError");
  assert.equal(e.message, "too big: 5");
  const frames = e.remoteStack.split("\n");
  assert.equal(frames[0], "RangeError: too big: 5");
  assert.match(
    frames[1],
    new RegExp(
      `^    at inc \\(${import.meta.url}:${line}, line 2:\\d+ of the function submitted there\\)$`,
    ),
  );
  assert.equal(frames[2], `    in task ${f.key}`);
  assert.equal(frames.length, 3, e.remoteStack); // no worker, thread or runtime frames
  assert.equal(await f.traceback(), e.remoteStack);
  f.release();

  // an async function after an await, anonymous on the client too
  const g = client.submit(async (s: string) => {
    await null;
    return JSON.parse(s);
  }, "{");
  const ge = await g.exception() as Error & { remoteStack: string };
  assert.equal(ge.name, "SyntaxError");
  assert.match(
    ge.remoteStack,
    new RegExp(`\\(${import.meta.url}:\\d+, line 3:\\d+ of the function`),
  );
  assert.doesNotMatch(ge.remoteStack, /thread_runner|ext:deno_web|dtask-fn:/);
  assert.match(ge.remoteStack, new RegExp(`\\n    in task ${g.key}$`));
  g.release();
});
