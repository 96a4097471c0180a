// A worker's memory thresholds: defaults, false, fractions, bad values and their messages, a
// zero limit turning everything off, maxSpill sizes, localDirectory, and the flags a nanny passes
// on.
import assert from "node:assert/strict";
import {
  absoluteLocalDirectory,
  checkMemoryOptions,
  memoryFlags,
  parseLocalDirectory,
  parseMaxSpill,
  parseThreshold,
  resolveMemoryConfig,
} from "../../worker/memory_config.ts";
import { parseArgs } from "node:util";
import { planCluster } from "../../cluster/local_options.ts";

const MiB = 2 ** 20, GiB = 2 ** 30;

Deno.test("memory config: Dask's defaults, in bytes of the limit", () => {
  assert.deepEqual(resolveMemoryConfig(1000), {
    limit: 1000,
    target: 600,
    spill: 700,
    pause: 800,
    terminate: 950,
    maxSpill: null,
  });
});

Deno.test("memory config: false turns one threshold off; the others keep their defaults", () => {
  const c = resolveMemoryConfig(400 * MiB, { memoryPause: false, memoryTarget: 0.5 });
  assert.equal(c.pause, null);
  assert.equal(c.target, 200 * MiB);
  assert.equal(c.spill, Math.floor(0.7 * 400 * MiB));
  assert.equal(c.terminate, Math.floor(0.95 * 400 * MiB));
  const off = resolveMemoryConfig(400 * MiB, {
    memoryTarget: false,
    memorySpill: false,
    memoryPause: false,
    memoryTerminate: false,
  });
  assert.deepEqual([off.target, off.spill, off.pause, off.terminate], [null, null, null, null]);
});

Deno.test("memory config: fractions above 0 and up to 1 are taken, in any order", () => {
  const c = resolveMemoryConfig(2000, {
    memoryTarget: 1,
    memorySpill: 0.001,
    memoryPause: 0.25,
    memoryTerminate: 0.5,
  });
  assert.deepEqual([c.target, c.spill, c.pause, c.terminate], [2000, 2, 500, 1000]);
});

Deno.test("memory config: a limit of 0 or null turns every threshold and the cap off", () => {
  for (const limit of [0, null, undefined]) {
    assert.deepEqual(resolveMemoryConfig(limit, { memoryTarget: 0.5, maxSpill: "1GiB" }), {
      limit: 0,
      target: null,
      spill: null,
      pause: null,
      terminate: null,
      maxSpill: null,
    });
  }
  // still checked: a mistake shows before a limit is set
  assert.throws(() => resolveMemoryConfig(0, { memoryPause: 2 }), /memoryPause/);
});

Deno.test("memory config: bad thresholds throw a TypeError naming the option and what it takes", () => {
  const cases: [Record<string, unknown>, string][] = [
    [
      { memoryPause: 1.5 },
      "memoryPause must be a fraction of memoryLimit greater than 0 and at most 1 (such as " +
      "0.8), or false to turn pausing off; got 1.5",
    ],
    [{ memoryTarget: 0 }, "or false to turn spilling by managed memory off; got 0"],
    [{ memorySpill: -0.1 }, "memorySpill must be a fraction"],
    [{ memoryTerminate: true }, "or false to turn restarting by the nanny off; got true"],
    [{ memoryPause: "0.8" }, 'got "0.8"'],
    [{ memoryPause: null }, "got null"],
    [{ memoryTarget: NaN }, "got NaN"],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => resolveMemoryConfig(1000, options),
      (e: unknown) => e instanceof TypeError && e.message.includes(message),
      `${JSON.stringify(options)} should throw "${message}"`,
    );
  }
});

Deno.test("memory config: a bad memory limit throws", () => {
  assert.throws(() => resolveMemoryConfig(-1), /memoryLimit must be a non-negative number/);
  assert.throws(() => resolveMemoryConfig(Infinity), TypeError);
});

Deno.test("memory config: maxSpill takes bytes, sizes and false", () => {
  assert.equal(resolveMemoryConfig(GiB, { maxSpill: "10GiB" }).maxSpill, 10 * GiB);
  assert.equal(resolveMemoryConfig(GiB, { maxSpill: "500 MB" }).maxSpill, 500e6);
  assert.equal(resolveMemoryConfig(GiB, { maxSpill: 600 }).maxSpill, 600);
  assert.equal(resolveMemoryConfig(GiB, { maxSpill: 0 }).maxSpill, 0); // nothing spills
  assert.equal(resolveMemoryConfig(GiB, { maxSpill: false }).maxSpill, null);
  assert.equal(resolveMemoryConfig(GiB, { maxSpill: null }).maxSpill, null);
  assert.throws(
    () => parseMaxSpill("auto"),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message === 'maxSpill "auto" is not a size: use bytes or a size such as "10GiB", or ' +
          "false for no cap",
  );
  assert.throws(() => parseMaxSpill(-5), /maxSpill must be a non-negative number of bytes/);
  assert.throws(() => parseMaxSpill(true), /maxSpill must be bytes, a size such as "10GiB"/);
});

Deno.test("memory config: as flags, strings are read and the flag is named", () => {
  assert.equal(parseThreshold("false", "memoryPause", "flag"), false);
  assert.equal(parseThreshold("0.5", "memoryTarget", "flag"), 0.5);
  assert.equal(parseMaxSpill("false", "flag"), false);
  assert.equal(parseMaxSpill("2GiB", "flag"), 2 * GiB);
  assert.throws(
    () => parseThreshold("1.5", "memoryPause", "flag"),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message === "--memory-pause must be a fraction of --memory-limit greater than 0 and at " +
          "most 1 (such as 0.8), or false to turn pausing off; got 1.5",
  );
  assert.throws(() => parseThreshold("", "memorySpill", "flag"), /--memory-spill .*got $/);
  assert.throws(() => parseThreshold("off", "memoryTerminate", "flag"), /got off$/);
  assert.throws(() => parseMaxSpill("lots", "flag"), /^TypeError: --max-spill "lots"/);
});

Deno.test("memory config: the nanny's flags carry what was given, and read back the same", () => {
  const given = { memoryTarget: 0.5, memoryPause: false as const, maxSpill: "1GiB" };
  const flags = memoryFlags(given);
  assert.deepEqual(flags, ["--memory-target=0.5", "--memory-pause=false", "--max-spill=1GiB"]);
  const read = Object.fromEntries(flags.map((f) => f.slice(2).split("=")));
  assert.deepEqual(
    checkMemoryOptions({
      memoryTarget: read["memory-target"],
      memorySpill: read["memory-spill"],
      memoryPause: read["memory-pause"],
      memoryTerminate: read["memory-terminate"],
      maxSpill: read["max-spill"],
    }, "flag"),
    {
      memoryTarget: 0.5,
      memorySpill: 0.7,
      memoryPause: false,
      memoryTerminate: 0.95,
      maxSpill: GiB,
    },
  );
  assert.deepEqual(memoryFlags({}), []);
});

Deno.test("memory config: localDirectory is a path, given only when given", () => {
  assert.equal(parseLocalDirectory(undefined), undefined);
  assert.equal(parseLocalDirectory("/scratch/dtask"), "/scratch/dtask");
  assert.equal(parseLocalDirectory("spill", "flag"), "spill");
  assert.throws(
    () => parseLocalDirectory(""),
    (e) =>
      e instanceof TypeError &&
      e.message === "localDirectory must be a directory path (a string) under which each worker " +
          'makes its spill directory; leave it out for <TMPDIR or /tmp>/dtask-scratch; got ""',
  );
  assert.throws(() => parseLocalDirectory("  "), /^TypeError: localDirectory must .* got " {2}"$/);
  assert.throws(() => parseLocalDirectory(42), /^TypeError: localDirectory must .* got 42$/);
  assert.throws(() => parseLocalDirectory(null), /^TypeError: localDirectory must .* got null$/);
  assert.throws(() => parseLocalDirectory("", "flag"), /^TypeError: --local-directory must .*""$/);
  assert.equal(checkMemoryOptions({ localDirectory: "/d" }).localDirectory, "/d");
  assert.ok(!("localDirectory" in checkMemoryOptions({})), "absent unless given");
  assert.throws(() => checkMemoryOptions({ localDirectory: false }), /localDirectory must/);
  // Worker.start checks its options through resolveMemoryConfig
  assert.throws(() => resolveMemoryConfig(GiB, { localDirectory: "" }), /localDirectory must/);
});

Deno.test("memory config: a relative localDirectory is made absolute against the current directory", () => {
  const checked = checkMemoryOptions({ localDirectory: "spill/here" });
  assert.equal(
    absoluteLocalDirectory(checked, () => "/home/u").localDirectory,
    "/home/u/spill/here",
  );
  assert.equal(
    absoluteLocalDirectory(checked).localDirectory,
    `${Deno.cwd()}/spill/here`,
    "the process's current directory by default",
  );
  const cwd = () => {
    throw new Error("the current directory is read only for a relative path");
  };
  const absolute = checkMemoryOptions({ localDirectory: "/scratch" });
  assert.equal(absoluteLocalDirectory(absolute, cwd), absolute);
  const none = checkMemoryOptions({});
  assert.equal(absoluteLocalDirectory(none, cwd), none);
});

Deno.test("memory config: the nanny's --local-directory reads back as the worker's localDirectory", () => {
  const dir = "/tmp/a dir=with spaces";
  const flags = memoryFlags({ maxSpill: "1GiB", localDirectory: dir });
  assert.deepEqual(flags, ["--max-spill=1GiB", `--local-directory=${dir}`]);
  // as the worker process reads its command line
  const { values } = parseArgs({
    args: flags,
    options: { "max-spill": { type: "string" }, "local-directory": { type: "string" } },
  });
  const read = checkMemoryOptions({
    maxSpill: values["max-spill"],
    localDirectory: values["local-directory"],
  }, "flag");
  assert.equal(read.localDirectory, dir);
  assert.equal(read.maxSpill, GiB);
});

Deno.test("memory config: LocalCluster checks the thresholds before it starts anything", () => {
  const base = { nWorkers: 1, dashboardAddress: null };
  assert.throws(
    () => planCluster({ ...base, memoryLimit: "1GiB", memoryPause: 1.5 }),
    /^TypeError: memoryPause must be a fraction of memoryLimit .* got 1\.5$/,
  );
  assert.throws(() => planCluster({ ...base, maxSpill: "much" }), /maxSpill "much" is not a size/);
  const plan = planCluster({ ...base, memoryLimit: "1GiB", memoryTarget: 0.5, maxSpill: "2GiB" });
  assert.deepEqual(plan.memory, {
    memoryTarget: 0.5,
    memorySpill: 0.7,
    memoryPause: 0.8,
    memoryTerminate: 0.95,
    maxSpill: 2 * GiB,
  });
  assert.throws(
    () => planCluster({ ...base, localDirectory: "" }),
    /^TypeError: localDirectory must be a directory path/,
  );
  const there = planCluster({ ...base, localDirectory: "scratch" });
  assert.equal(there.memory.localDirectory, `${Deno.cwd()}/scratch`, "resolved where it starts");
});
