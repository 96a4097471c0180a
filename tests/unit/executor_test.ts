import assert from "node:assert/strict";
import {
  Executor,
  type ExecutorOptions,
  type TaskOutcome,
  type TaskRun,
  type ThreadErrorInfo,
} from "../../worker/executor.ts";
import { decodeValue, encodeValue, Payload, Ref } from "../../comm/serialize.ts";
import { fromEnvelope, ScopeError } from "../../core/errors.ts";
import { checkFunctionSource, type Shippable } from "../../core/compile.ts";
import { getWorker, rejoin, secede } from "../../client/in_task.ts";

/** FNV-1a of a string, as hex (test-only function hash). */
function hashOf(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

let seq = 0;

/** A TaskRun for `fn(...args)`; deps are values, encoded here. */
function task(
  fn: Shippable,
  args: unknown[] = [],
  opts: { key?: string; deps?: Record<string, unknown>; withSource?: boolean } = {},
): TaskRun {
  const { name, source } = checkFunctionSource(fn);
  const run: TaskRun = {
    key: opts.key ?? `${name || "task"}-${seq++}`,
    fnHash: hashOf(source),
    fnName: name,
    args: encodeValue(args),
  };
  if (opts.withSource !== false) run.fnSource = source;
  if (opts.deps) {
    run.deps = new Map(Object.entries(opts.deps).map(([k, v]) => [k, encodeValue(v)]));
  }
  return run;
}

/** An Executor whose outcomes are collected; `wait` resolves when keys have settled. */
class Harness {
  readonly ex: Executor;
  readonly batches: TaskOutcome[][] = [];
  readonly outcomes = new Map<string, TaskOutcome>();
  readonly strays: ThreadErrorInfo[] = [];
  #wake: (() => void) | null = null;

  constructor(opts: Partial<ExecutorOptions> = {}) {
    this.ex = new Executor({
      nthreads: 1,
      ...opts,
      onOutcomes: (b) => {
        this.batches.push(b);
        for (const o of b) this.outcomes.set(o.key, o);
        this.#wake?.();
      },
      onThreadError: (i) => {
        this.strays.push(i);
        this.#wake?.();
      },
    });
  }

  /** Runs tasks and waits for their outcomes. */
  async run(...tasks: TaskRun[]): Promise<TaskOutcome[]> {
    for (const t of tasks) this.ex.run(t);
    return await this.wait(tasks.map((t) => t.key));
  }

  /** Waits (with a deadline) until `cond` holds; re-checked after each report. */
  async until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (cond()) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
        this.#wake = () => {
          if (cond()) resolve();
        };
      });
    } finally {
      clearTimeout(timer);
      this.#wake = null;
    }
  }

  /** Waits for the outcomes of `keys`. */
  async wait(keys: string[]): Promise<TaskOutcome[]> {
    await this.until(() => keys.every((k) => this.outcomes.has(k)), `tasks ${keys.slice(0, 3)}`);
    return keys.map((k) => this.outcomes.get(k)!);
  }
}

/** The value of a successful outcome. */
function valueOf(o: TaskOutcome): unknown {
  if (!o.ok) throw fromEnvelope(o.error);
  return decodeValue(o.value);
}

/** Runs `body` with a Harness and always closes its executor. */
async function withHarness(
  opts: Partial<ExecutorOptions>,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const h = new Harness(opts);
  try {
    await body(h);
  } finally {
    await h.ex.close();
  }
}

Deno.test("a sync function runs and its result comes back", async () => {
  await withHarness({}, async (h) => {
    const add = (a: number, b: number) => a + b;
    const [o] = await h.run(task(add, [2, 3], { key: "add-1" }));
    assert.equal(o.key, "add-1");
    assert.equal(o.ok, true);
    assert.equal(valueOf(o), 5);
    assert.equal(o.thread, 0);
    assert.ok(o.start <= o.stop);
    assert.ok(Math.abs(o.start - Date.now()) < 60_000, "start is epoch milliseconds");
    assert.equal(h.ex.inflight, 0);
    assert.equal(h.ex.capacity, 2);
  });
});

Deno.test("an async function holds its thread until it settles", async () => {
  await withHarness({}, async (h) => {
    const slow = async (x: number) => {
      await new Promise((r) => setTimeout(r, 50));
      return x * 2;
    };
    const t = task(slow, [21]);
    h.ex.run(t);
    assert.equal(h.ex.inflight, 1);
    const [o] = await h.wait([t.key]);
    assert.equal(valueOf(o), 42);
    assert.ok(o.start <= o.stop);
    assert.equal(h.ex.inflight, 0);
  });
});

Deno.test("Refs in the arguments are replaced by dependency values, each decoded once", async () => {
  await withHarness({}, async (h) => {
    const combine = (a: number[], o: { b: number[]; again: number[] }) => ({
      all: [...a, ...o.b],
      same: a === o.again,
    });
    const t = task(combine, [new Ref("x"), { b: new Ref("y"), again: new Ref("x") }], {
      deps: { x: [1, 2], y: [3] },
    });
    const [o] = await h.run(t);
    assert.deepEqual(valueOf(o), { all: [1, 2, 3], same: true });

    const missing = task((a: unknown) => a, [new Ref("nope")]);
    const [m] = await h.run(missing);
    assert.equal(m.ok, false);
    assert.match(!m.ok ? m.error.message : "", /dependency nope was not provided/);
  });
});

Deno.test("a thrown Error comes back with its name, message and stack", async () => {
  await withHarness({}, async (h) => {
    const fail = (n: number) => {
      if (n > 0) throw new RangeError(`too big: ${n}`);
      return n;
    };
    const [o] = await h.run(task(fail, [7]));
    assert.equal(o.ok, false);
    if (o.ok) return;
    assert.equal(o.error.name, "RangeError");
    assert.equal(o.error.message, "too big: 7");
    // its frame names the line within the function (no submit site here), then the task
    assert.match(
      o.error.stack ?? "",
      /^RangeError: too big: 7\n\s+at fail \(line 2:\d+ of the task function\)\n\s+in task fail-\d+$/,
    );
    const e = fromEnvelope(o.error);
    assert.ok(e instanceof RangeError);
    assert.ok(o.start <= o.stop);

    const rejects = async () => {
      await null;
      throw new TypeError("async nope");
    };
    const [r] = await h.run(task(rejects));
    assert.equal(!r.ok && r.error.name, "TypeError");
    assert.equal(!r.ok && r.error.message, "async nope");
  });
});

Deno.test("a thrown non-Error comes back as an error outcome", async () => {
  await withHarness({}, async (h) => {
    const throwsString = () => {
      throw "plain string";
    };
    const throwsObject = () => {
      throw { code: 7 };
    };
    const [s, o] = await h.run(task(throwsString), task(throwsObject));
    assert.equal(s.ok, false);
    assert.equal(!s.ok && s.error.message, "plain string");
    assert.equal(o.ok, false);
    assert.match(!o.ok ? o.error.message : "", /"code":7/);
  });
});

Deno.test("a function using its enclosing scope fails with a ScopeError naming the variable", async () => {
  await withHarness({}, async (h) => {
    const secret = 42;
    const useSecret = (x: number) => x + secret;
    const [o] = await h.run(task(useSecret, [1]));
    assert.equal(o.ok, false);
    if (o.ok) return;
    assert.equal(o.error.name, "ScopeError");
    assert.match(o.error.message, /"useSecret" uses "secret"/);
    assert.match(o.error.message, /argument/);
    assert.match(o.error.message, /await import/);
    assert.match(o.error.message, /preload/);
    const e = fromEnvelope(o.error);
    assert.ok(e instanceof ScopeError);
  });
});

Deno.test("worker globals are shadowed inside task functions", async () => {
  await withHarness({}, async (h) => {
    const probe = () => [
      // @ts-ignore: worker globals, shadowed on the thread
      typeof name,
      // @ts-ignore: worker globals, shadowed on the thread
      typeof close,
      // @ts-ignore: worker globals, shadowed on the thread
      typeof postMessage,
      typeof self,
      // @ts-ignore: worker globals, shadowed on the thread
      typeof onmessage,
      // @ts-ignore: worker globals, shadowed on the thread
      typeof onerror,
      typeof (globalThis as unknown as { postMessage: unknown }).postMessage,
    ];
    const [o] = await h.run(task(probe));
    assert.deepEqual(valueOf(o), [
      "undefined",
      "undefined",
      "undefined",
      "undefined",
      "undefined",
      "undefined",
      "function",
    ]);
  });
});

Deno.test("stray rejections and errors are reported and do not kill the thread", async () => {
  await withHarness({}, async (h) => {
    const stray = async () => {
      Promise.reject(new Error("stray rejection"));
      setTimeout(() => {
        throw new Error("stray throw");
      }, 0);
      // Still running when the rejection is noticed: the report names this task.
      await new Promise((r) => setTimeout(r, 20));
      return "returned";
    };
    const [o] = await h.run(task(stray, [], { key: "stray-1" }));
    assert.equal(valueOf(o), "returned");
    await h.until(() => h.strays.length >= 2, "two stray reports");
    const messages = h.strays.map((s) => s.error.message).sort();
    assert.deepEqual(messages, ["stray rejection", "stray throw"]);
    assert.equal(h.strays.find((s) => s.error.message === "stray rejection")!.key, "stray-1");
    // The thread still runs tasks.
    const [later] = await h.run(task((x: number) => x + 1, [1]));
    assert.equal(valueOf(later), 2);
  });
});

Deno.test("10,000 no-op tasks all complete, in batches", async () => {
  for (const nthreads of [1, 2]) {
    await withHarness({ nthreads }, async (h) => {
      const noop = () => null;
      const first = task(noop);
      const tasks = [first];
      for (let i = 1; i < 10_000; i++) {
        // The source is sent with the first task only: the executor keeps it by hash.
        tasks.push({ ...first, key: `noop-${nthreads}-${i}`, fnSource: undefined });
      }
      const outs = await h.run(...tasks);
      assert.equal(outs.length, 10_000);
      assert.ok(outs.every((o) => o.ok && decodeValue(o.value) === null));
      const n = h.batches.reduce((a, b) => a + b.length, 0);
      assert.equal(n, 10_000);
      assert.ok(h.batches.length < 10_000 / 1.5, `${h.batches.length} batches`);
      assert.equal(h.ex.inflight, 0);
      if (nthreads === 2) assert.deepEqual(new Set(outs.map((o) => o.thread)), new Set([0, 1]));
    });
  }
});

Deno.test("a deeper pipeline batches more outcomes per message", async () => {
  await withHarness({ nthreads: 1, pipelineDepth: 64 }, async (h) => {
    const noop = () => 0;
    const tasks = Array.from({ length: 2000 }, () => task(noop));
    await h.run(...tasks);
    assert.equal(h.ex.capacity, 64);
    assert.ok(h.batches.length <= 2000 / 8, `${h.batches.length} batches for 2000 tasks`);
  });
});

Deno.test("two threads run tasks at the same time", async () => {
  await withHarness({ nthreads: 2 }, async (h) => {
    // Each task flags that it runs, then blocks until the other one has flagged too: both
    // return true only if they ran at the same time (a lone one gives up after 10 s).
    const flags = new Int32Array(new SharedArrayBuffer(64 * 1024));
    const meet = (f: Int32Array, me: number, other: number) => {
      Atomics.store(f, me, 1);
      Atomics.notify(f, me);
      return Atomics.wait(f, other, 0, 10_000) !== "timed-out";
    };
    const [a, b] = await h.run(task(meet, [flags, 0, 1]), task(meet, [flags, 1, 0]));
    assert.deepEqual([valueOf(a), valueOf(b)], [true, true]);
    assert.notEqual(a.thread, b.thread);
    assert.ok(b.start <= a.stop && a.start <= b.stop, "the two tasks overlap");
  });
});

Deno.test("one thread runs one task at a time, in arrival order", async () => {
  await withHarness({ nthreads: 1, pipelineDepth: 4 }, async (h) => {
    const sleep = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    };
    const outs = await h.run(task(sleep, [30]), task(sleep, [1]), task(sleep, [10]));
    for (let i = 1; i < outs.length; i++) {
      assert.ok(outs[i - 1].stop <= outs[i].start, "tasks do not overlap on one thread");
    }
  });
});

Deno.test("an 8 MB Float64Array round trips intact", async () => {
  await withHarness({}, async (h) => {
    const fill = (n: number) => {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = i * 0.5;
      return a;
    };
    const [o] = await h.run(task(fill, [1 << 20]));
    const a = valueOf(o) as Float64Array;
    assert.ok(a instanceof Float64Array);
    assert.equal(a.length, 1 << 20);
    assert.equal(a[0], 0);
    assert.equal(a[12345], 12345 * 0.5);
    assert.equal(a[a.length - 1], (a.length - 1) * 0.5);

    // And as an argument and a dependency.
    const sum = (x: Float64Array, y: Float64Array) => {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i] - y[i];
      return [s, x.length, y.length];
    };
    const [s] = await h.run(task(sum, [a, new Ref("dep")], { deps: { dep: a } }));
    assert.deepEqual(valueOf(s), [0, 1 << 20, 1 << 20]);
    assert.equal(a.length, 1 << 20, "the caller's array was not detached");
  });
});

Deno.test("a dependency frame on a SharedArrayBuffer is shared with the thread", async () => {
  await withHarness({}, async (h) => {
    const shared = new Float64Array(new SharedArrayBuffer(8 * 16_384));
    shared[1] = 5;
    const dep = encodeValue(shared);
    assert.ok(dep.frames[0].buffer instanceof SharedArrayBuffer, "encoded as a shared frame");
    const poke = (a: Float64Array) => {
      const isShared = a.buffer instanceof SharedArrayBuffer;
      a[0] = 42;
      return [isShared, a[1]];
    };
    const t = task(poke, [new Ref("s")]);
    t.deps = new Map([["s", dep]]);
    const [o] = await h.run(t);
    assert.deepEqual(valueOf(o), [true, 5]);
    assert.equal(shared[0], 42, "the thread wrote into the same memory");
  });
});

Deno.test("a result reusing a dependency buffer is copied, not moved away from other tasks", async () => {
  await withHarness({ nthreads: 1, pipelineDepth: 4 }, async (h) => {
    const big = new Float64Array(16_384).fill(3);
    const deps = new Map([["d", encodeValue(big)]]);
    const identity = (a: Float64Array) => a;
    const total = (a: Float64Array) => a.reduce((s, x) => s + x, 0);
    const t1 = task(identity, [new Ref("d")]);
    const t2 = task(total, [new Ref("d")]);
    t1.deps = deps;
    t2.deps = deps;
    const [o1, o2] = await h.run(t1, t2);
    assert.equal((valueOf(o1) as Float64Array).length, 16_384);
    assert.equal(valueOf(o2), 3 * 16_384);
  });
});

Deno.test("headers that are views of a larger buffer are posted as copies", async () => {
  await withHarness({}, async (h) => {
    const t = task((x: number) => x * 3, [5]);
    const big = new Uint8Array(1 << 20);
    big.set(t.args.header, 1000);
    t.args = new Payload(big.subarray(1000, 1000 + t.args.header.length), []);
    const [o] = await h.run(t);
    assert.equal(valueOf(o), 15);
    assert.equal(big.length, 1 << 20, "the caller's buffer was not detached");
  });
});

Deno.test("a result that cannot be encoded becomes an error outcome", async () => {
  await withHarness({}, async (h) => {
    const returnsFn = () => () => 1;
    const [o] = await h.run(task(returnsFn));
    assert.equal(o.ok, false);
    assert.match(!o.ok ? o.error.message : "", /cannot be sent.*function/);
  });
});

Deno.test("sources are kept by hash and sent to each thread once", async () => {
  await withHarness({ nthreads: 2 }, async (h) => {
    const triple = (x: number) => 3 * x;
    const first = task(triple, [1]);
    await h.run(first);
    // Without the source: the executor ships it to the other thread when that one needs it.
    const rest = Array.from({ length: 8 }, (_, i) => ({
      ...task(triple, [i]),
      fnSource: undefined,
    }));
    const outs = await h.run(...rest);
    assert.deepEqual(outs.map(valueOf), [0, 3, 6, 9, 12, 15, 18, 21]);
    assert.deepEqual(new Set(outs.map((o) => o.thread)), new Set([0, 1]));

    const unknown: TaskRun = { ...task(() => 1), fnHash: "nope", fnSource: undefined };
    const [u] = await h.run(unknown);
    assert.equal(u.ok, false);
    assert.match(!u.ok ? u.error.message : "", /never sent/);
  });
});

Deno.test("close() is idempotent and drops tasks in flight", async () => {
  const h = new Harness({ nthreads: 2 });
  const sleep = async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  };
  h.ex.run(task(sleep, [10_000]));
  h.ex.run(task(sleep, [10_000]));
  h.ex.run(task(sleep, [10_000]));
  assert.equal(h.ex.inflight, 3);
  const p1 = h.ex.close();
  const p2 = h.ex.close();
  assert.equal(p1, p2);
  await p1;
  await h.ex.close();
  assert.equal(h.ex.inflight, 0);
  assert.throws(() => h.ex.run(task(sleep, [1])), /executor is closed/);
  assert.equal(h.outcomes.size, 0);
});

/** Why a task's thread died under it (its outcome's `crashed`), or undefined. */
function crashOf(o: TaskOutcome): string | undefined {
  return o.ok ? undefined : o.crashed;
}

Deno.test("a thread that closes itself is replaced: its task is reported crashed, the one queued behind it runs", async () => {
  await withHarness({ nthreads: 1, pipelineDepth: 2 }, async (h) => {
    const closeThread = () => {
      (globalThis as unknown as { close(): void }).close();
      return "unreachable?";
    };
    const bystander = () => "bystander";
    const [closed, queued] = await h.run(task(closeThread), task(bystander));
    assert.equal(closed.ok, false);
    assert.match(crashOf(closed) ?? "", /^thread 0 died: close\(\) was called in the thread$/);
    assert.match(!closed.ok ? closed.error.message : "", /thread 0 died: .*it was restarted/);
    // never begun on the dead thread: it ran on the replacement (which got the sources again)
    assert.equal(valueOf(queued), "bystander");
    assert.equal(h.ex.inflight, 0);
  });
});

Deno.test("a thread that calls Deno.exit is replaced and its task is reported crashed", async () => {
  await withHarness({ nthreads: 1 }, async (h) => {
    const exits = () => Deno.exit(3);
    const [o] = await h.run(task(exits));
    assert.equal(o.ok, false);
    assert.match(crashOf(o) ?? "", /^thread 0 died: .*Deno\.exit/);
    const [later] = await h.run(task(() => "alive"));
    assert.equal(valueOf(later), "alive");
  });
});

Deno.test("a thread that dies while an async task awaits: that task is crashed, none queued behind it", async () => {
  await withHarness({ nthreads: 1, pipelineDepth: 3 }, async (h) => {
    const exitsLater = async () => {
      await new Promise((r) => setTimeout(r, 50));
      Deno.exit(3);
    };
    const a = task(() => "a"), b = task(exitsLater), c = task(() => "c"), d = task(() => "d");
    const [oa, ob, oc, od] = await h.run(a, b, c, d);
    assert.equal(valueOf(oa), "a");
    assert.match(crashOf(ob) ?? "", /thread 0 died/);
    assert.equal(valueOf(oc), "c");
    assert.equal(valueOf(od), "d");
  });
});

/** Runs `code` in a child Deno process at the project root; returns its stdout. */
async function runChild(code: string): Promise<string> {
  const root = new URL("../../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return stdout;
}

const childScript = (silenceLogs: boolean) => `
import { Executor } from "./worker/executor.ts";
import { encodeValue } from "./comm/serialize.ts";
let done;
const finished = new Promise((r) => (done = r));
const ex = new Executor({ nthreads: 1, silenceLogs: ${silenceLogs}, onOutcomes: () => done() });
const src = "(x) => { console.log('hello %s', x); console.error({ n: 1 }); return 1 }";
ex.run({ key: "talk-1", fnHash: "h", fnName: "talk", fnSource: src, args: encodeValue(["you"]) });
await finished;
await ex.close();
console.log("END");
`;

Deno.test("what tasks print is prefixed with their key, or dropped with silenceLogs", async () => {
  const loud = await runChild(childScript(false));
  assert.match(loud, /^\[talk-1\] hello you$/m);
  assert.match(loud, /END/);
  const quiet = await runChild(childScript(true));
  assert.doesNotMatch(quiet, /hello/);
  assert.match(quiet, /END/);
});

Deno.test("async tasks that settle within one macrotask come back in one batch", async () => {
  await withHarness({ nthreads: 1, pipelineDepth: 1000 }, async (h) => {
    const asyncNoop = async (i: number) => {
      await null;
      return i;
    };
    const tasks = Array.from({ length: 1000 }, (_, i) => task(asyncNoop, [i]));
    const outs = await h.run(...tasks);
    assert.deepEqual(outs.map(valueOf), tasks.map((_, i) => i));
    assert.equal(h.batches.length, 1, `${h.batches.length} batches`);
  });
});

/** A data: URL module that stands in for the thread script. */
function fakeThread(js: string): string {
  return `data:application/javascript,${encodeURIComponent(js)}`;
}

Deno.test("a thread whose error event fires is replaced and its tasks are reported crashed", async () => {
  // Fails every batch with an error nobody prevents: the Worker's `error` event fires.
  const threadUrl = fakeThread(`
    addEventListener("message", (e) => {
      if (e.data.op === "run") setTimeout(() => { throw new Error("thread blew up"); }, 0);
    });
    postMessage({ op: "ready" });
  `);
  await withHarness({ nthreads: 1, threadUrl }, async (h) => {
    // this thread never says which tasks it began: each death blames the oldest in flight
    const [a, b] = await h.run(task(() => 1), task(() => 2));
    for (const o of [a, b]) {
      assert.equal(o.ok, false);
      assert.match(crashOf(o) ?? "", /^thread 0 died: .*thread blew up/);
    }
    assert.equal(h.ex.inflight, 0);
    // It was replaced: the next task reaches a new thread (which fails it the same way).
    const [c] = await h.run(task(() => 3));
    assert.match(crashOf(c) ?? "", /thread 0 died/);
  });
});

Deno.test("threads that cannot start break the executor instead of restarting forever", async () => {
  const threadUrl = fakeThread(`throw new Error("cannot load");`);
  await withHarness({ nthreads: 2, threadUrl }, async (h) => {
    const tasks = Array.from({ length: 6 }, (_, i) => task((x: number) => x, [i]));
    const outs = await h.run(...tasks);
    // never begun by a thread that was ready: they wait for a thread, until it gives up
    for (const o of outs) {
      assert.equal(o.ok, false);
      assert.match(!o.ok ? o.error.message : "", /executor is broken/);
      assert.equal(crashOf(o), undefined);
    }
    // After a few failed starts it gives up: tasks fail at once with the reason.
    let last = "";
    for (let i = 0; i < 10 && !/executor is broken/.test(last); i++) {
      const [o] = await h.run(task(() => 0));
      last = !o.ok ? o.error.message : "";
    }
    assert.match(last, /executor is broken: thread \d failed to start 3 times: .*cannot load/);
    assert.equal(h.ex.inflight, 0);
  });
});

// ------------------------------------------------------------------ in-task

const WORKER_INFO = {
  address: "tcp://127.0.0.1:1",
  name: "w-test",
  nthreads: 1,
  memoryLimit: 0,
  memory: { limit: 0, target: null, spill: null, pause: null, terminate: null, maxSpill: null },
  resources: { GPU: 1 },
  schedulerAddress: "tcp://127.0.0.1:2",
};

Deno.test("a task that secedes frees its thread: the next task runs while it waits", async () => {
  const seceded: string[] = [];
  const rejoins: string[] = [];
  let ex: Executor | null = null;
  await withHarness({
    pipelineDepth: 1,
    worker: WORKER_INFO,
    onSecede: (k) => seceded.push(k),
    onRejoin: (k) => {
      rejoins.push(k);
      ex!.rejoined(k);
    },
  }, async (h) => {
    ex = h.ex;
    const waiter = async () => {
      secede();
      const g = globalThis as { other?: boolean };
      while (!g.other) await new Promise((r) => setTimeout(r, 1));
      await rejoin();
      const w = getWorker();
      return [w.name, w.key, w.thread, w.resources.GPU];
    };
    const other = () => {
      (globalThis as { other?: boolean }).other = true;
      return "other ran";
    };
    const [a, b] = await h.run(
      task(waiter, [], { key: "waiter-1" }),
      task(other, [], { key: "other-1" }),
    );
    assert.deepEqual(valueOf(a), ["w-test", "waiter-1", 0, 1]);
    assert.equal(valueOf(b), "other ran");
    assert.deepEqual(seceded, ["waiter-1"]);
    assert.deepEqual(rejoins, ["waiter-1"]);
  });
});

Deno.test("a task reads its key and thread from the thread's hooks, also through a copy it imports", async () => {
  await withHarness({ worker: WORKER_INFO }, async (h) => {
    // a module the task imports by URL reads the same global slot
    const url = new URL("../../core/in_task.ts", import.meta.url).href;
    const whoAmI = async (u: string) => {
      const { getWorker } = await import(u);
      const w = getWorker();
      return [w.key, w.thread];
    };
    const [o] = await h.run(task(whoAmI, [url], { key: "who-1" }));
    assert.deepEqual(valueOf(o), ["who-1", 0]);
  });
});

Deno.test("preload: a thread imports the module before tasks; its exports run as themselves", async () => {
  const mod = new URL("../fixtures/preload_mod.ts", import.meta.url).href;
  const { greet } = await import(mod);
  await withHarness({ preload: [mod] }, async (h) => {
    const [o] = await h.run(task(greet, ["ab"]));
    assert.equal(valueOf(o), "hello from a preloaded module, aabb");
    // getWorker() without worker info (a bare executor): a clear error
    const [e] = await h.run(task(() => getWorker()));
    assert.match((e as { error: { message: string } }).error.message, /only inside a task/);
  });
});
