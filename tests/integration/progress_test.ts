// progress(): plain lines on a pipe, bars redrawn in place on a terminal, erred counts as done.
import assert from "node:assert/strict";
import { Client, LocalCluster, progress, type ProgressStream } from "../../mod.ts";

const slowinc = async (x: number) => {
  await new Promise((r) => setTimeout(r, 2));
  return x + 1;
};

/** A pipe-like stream that keeps what is written, taking at most 64 bytes per write. */
function collector(): ProgressStream & { text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    write(bytes) {
      const n = Math.min(bytes.length, 64);
      chunks.push(bytes.slice(0, n));
      return n;
    },
    isTerminal: () => false,
    text: () => chunks.map((c) => new TextDecoder().decode(c)).join(""),
  };
}

/** `p`, or a failure once `ms` pass (a progress that never resolves fails instead of hanging). */
async function within<T>(p: Promise<T>, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`progress did not resolve in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

function startCluster() {
  return LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 2,
    processes: false,
    dashboardAddress: null,
  });
}

Deno.test("progress: plain lines on a pipe, the last one for the prefix at 200/200 100%", async () => {
  await using cluster = await startCluster();
  await using client = await Client.connect(cluster);
  const futures = client.map(slowinc, Array.from({ length: 200 }, (_, i) => i));
  const out = collector();
  await within(progress(futures, { stream: out }));
  assert.ok(futures.every((f) => f.done()));
  const text = out.text();
  assert.ok(!text.includes("\x1b"), `escape codes in ${JSON.stringify(text)}`);
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.at(-1), "slowinc 200/200 100%");
  assert.equal(lines.filter((l) => l === "slowinc 200/200 100%").length, 1);
  for (const l of lines) assert.match(l, /^slowinc \d+\/200 \d+%$/);
  assert.ok(lines.length <= 11, `at most a line per 10% and the last: ${lines.length}`);
});

Deno.test("progress: erred and finished Futures of two prefixes, nested, all count as done", async () => {
  await using cluster = await startCluster();
  await using client = await Client.connect(cluster);
  const failodd = (x: number) => {
    if (x % 2) throw new Error(`odd ${x}`);
    return x;
  };
  const bad = client.map(failodd, Array.from({ length: 20 }, (_, i) => i));
  const good = client.map(slowinc, [1, 2, 3]);
  const out = collector();
  await within(progress({ bad, more: [good, good[0]] }, { stream: out }));
  assert.equal(bad.filter((f) => f.status === "error").length, 10);
  const lines = out.text().trimEnd().split("\n");
  assert.deepEqual(lines.slice(-2), ["failodd 20/20 100% (10 erred)", "slowinc 3/3 100%"]);
  await progress([], { stream: out }); // nothing to wait for: resolves at once
});

Deno.test("progress: on a terminal the bars redraw in place and end at 100%", async () => {
  const script = await new Deno.Command("sh", { args: ["-c", "command -v script"] }).output();
  assert.equal(script.code, 0, "util-linux `script` is needed (apt-get install bsdutils)");
  const prog = new URL("../fixtures/progress_tty.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const cmd = `"${Deno.execPath()}" run -A --config "${config}" "${prog}"`;
  const out = await new Deno.Command("script", {
    args: ["-qfec", cmd, "/dev/null"],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
  assert.match(text, /terminal: true/);
  assert.match(text, /sum 1830/);
  const ESC = "\x1b";
  assert.match(text, new RegExp(`${ESC}\\[\\d+A`), "no cursor movement");
  assert.ok(text.includes(`${ESC}[2K`), "no line clearing");
  assert.match(text, /slowinc \[#{30}\] 60\/60 100%/);
});
