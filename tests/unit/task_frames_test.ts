// Task stacks as the user reads them: the submit site read from a stack, the compiled
// function's frames naming it and the line within the function, dtask's frames under the task
// dropped, and the task's key.
import assert from "node:assert/strict";
import { compileFunction, scopeErrorFrom, taskSourceUrl } from "../../core/compile.ts";
import { siteFromStack, stackHere, taskStack } from "../../core/task_frames.ts";
import { ScopeError } from "../../core/errors.ts";
import { fnDef, fnInfo } from "../../client/functions.ts";

const ROOT = new URL("../../", import.meta.url).href;

/** What `fn()` throws. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("it did not throw");
}

Deno.test("siteFromStack gives the first caller outside dtask's modules, as url:line", () => {
  const stack = [
    "Error: submitted here",
    `    at stackHere (${ROOT}core/task_frames.ts:60:12)`,
    `    at fnInfo (${ROOT}client/functions.ts:30:14)`,
    `    at Client.submit (${ROOT}client/client.ts:120:25)`,
    "    at ext:core/01_core.js:10:3",
    "    at async main (file:///home/u/proj/main.ts:12:18)",
    "    at file:///home/u/proj/other.ts:3:1",
  ].join("\n");
  assert.equal(siteFromStack(stack), "file:///home/u/proj/main.ts:12");
  // tests and examples are the user's code, not dtask's
  assert.equal(
    siteFromStack(
      `Error\n    at x (${ROOT}client/submit.ts:1:1)\n    at ${ROOT}tests/a_test.ts:7:3`,
    ),
    `${ROOT}tests/a_test.ts:7`,
  );
  assert.equal(siteFromStack("submit@https://example.com/app.js:40:2"), undefined); // first line
  assert.equal(
    siteFromStack("Error\nsubmit@https://example.com/app.js:40:2"),
    "https://example.com/app.js:40",
  );
  assert.equal(siteFromStack(`Error\n    at f (${ROOT}client/submit.ts:1:1)`), undefined);
  assert.equal(siteFromStack(undefined), undefined);
  // the real thing, from here
  const line = Number(new Error().stack!.split("\n")[1].match(/:(\d+):\d+\)?$/)![1]) + 1;
  assert.equal(siteFromStack(stackHere().stack), `${import.meta.url}:${line}`);
});

Deno.test("a function compiled with its site names it in its frames, and its client's name", () => {
  const site = "file:///home/u/proj/main.ts:12";
  const inc = compileFunction(
    "inc",
    "(x) => {\n  if (x > 1) throw new Error(`too big: ${x}`);\n}",
    {},
    site,
  );
  assert.equal(inc.name, "inc"); // an anonymous arrow is named as the client knew it
  const e = thrown(() => inc(5));
  assert.match(
    e.stack!,
    /\n\s+at inc \(file:\/\/\/home\/u\/proj\/main\.ts:12, <anonymous>:\d+:\d+\)/,
  );
  const stack = taskStack(e.stack!, "inc-abc", taskSourceUrl("inc", site));
  const lines = stack.split("\n");
  assert.equal(lines[0], "Error: too big: 5");
  assert.equal(
    lines[1],
    "    at inc (file:///home/u/proj/main.ts:12, line 2:20 of the function submitted there)",
  );
  assert.equal(lines.at(-1), "    in task inc-abc");
  // a site that cannot be a sourceURL falls back to dtask-fn:
  assert.equal(taskSourceUrl("f", "file:///a b/main.ts:3"), "dtask-fn:f");
  assert.equal(taskSourceUrl("", undefined), "dtask-fn:anonymous");
});

Deno.test("taskStack drops dtask's and the runtime's frames under the task, keeps the rest", () => {
  const url = "file:///p/main.ts:9";
  const stack = [
    "TypeError: nope",
    "    at helper (file:///p/lib.ts:3:9)",
    "    at Array.map (<anonymous>)",
    `    at work (${url}, <anonymous>:7:12)`,
    "    at AsyncLocalStorage.run (ext:deno_node/async_hooks.ts:1:1762)",
    `    at ThreadRunner.#runNext (${ROOT}worker/thread_runner.ts:152:26)`,
    `    at ThreadRunner.#pump (${ROOT}worker/thread_runner.ts:117:24)`,
    "    at innerInvokeEventListeners (ext:deno_web/02_event.js:1:8095)",
  ].join("\n");
  assert.equal(
    taskStack(stack, "work-1", url),
    [
      "TypeError: nope",
      "    at helper (file:///p/lib.ts:3:9)",
      "    at Array.map (<anonymous>)",
      `    at work (${url}, line 3:12 of the function submitted there)`,
      "    in task work-1",
    ].join("\n"),
  );
  // nothing but dtask's frames (an error of dtask's own): all kept
  const own = `Error: x\n    at f (${ROOT}worker/thread_functions.ts:1:1)`;
  assert.equal(taskStack(own, "k", undefined), `${own}\n    in task k`);
  // a message over several lines stays whole
  assert.equal(taskStack("Error: a\nb", "k", url), "Error: a\nb\n    in task k");
});

Deno.test("a ScopeError is still recognised in a function compiled with its site", () => {
  const site = "file:///p/main.ts:4";
  const fn = compileFunction("useSecret", "() => secret + 1", {}, site);
  const e = thrown(fn);
  const err = scopeErrorFrom(e, "useSecret", taskSourceUrl("useSecret", site));
  assert.ok(err instanceof ScopeError);
  assert.match(
    taskStack((err as Error).stack!, "k", taskSourceUrl("useSecret", site)),
    /^ScopeError: .*\n\s+at useSecret \(file:\/\/\/p\/main\.ts:4, line 1:\d+ of the function submitted there\)/,
  );
  // a ReferenceError thrown elsewhere (a helper module on line 40 of the same file) is not one
  const foreign = new ReferenceError("zz is not defined");
  foreign.stack = "ReferenceError: zz is not defined\n    at g (file:///p/main.ts:40:3)";
  assert.equal(scopeErrorFrom(foreign, "f", taskSourceUrl("f", site)), foreign);
});

Deno.test("fnDef carries where the function was first submitted; its closures share it", () => {
  const make = () => (x: number) => x + 1;
  const line = Number(new Error().stack!.split("\n")[1].match(/:(\d+):\d+\)?$/)![1]) + 1;
  const first = fnInfo(make());
  const again = fnInfo(make()); // another closure of the same source: hashed and placed once
  assert.equal(again, first);
  assert.deepEqual(fnDef(first), {
    h: first.h,
    n: "",
    s: first.s,
    u: `${import.meta.url}:${line}`,
  });
  assert.equal(first.where, undefined); // the stack is read once, then dropped
});
