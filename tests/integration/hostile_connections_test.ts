// A real scheduler process under a flood of hostile connections: its memory stays put and a real
// client is still served. The flood opens 2,000 sockets here and the scheduler accepts as many,
// so both processes need a descriptor limit (`ulimit -n`) above ~2,100.
import assert from "node:assert/strict";
import { Client } from "../../mod.ts";
import { type CliProcess, root, schedulerArgs, spawnDeno } from "./cli_process.ts";
import { readUntil } from "./helpers.ts";
import { MAX_FIRST_PACKET } from "../../comm/limits.ts";

const MiB = 1024 * 1024;
const FLOOD = 2000;
const WAVE = 100;

const u32 = (...xs: number[]): Uint8Array => {
  const b = new Uint8Array(4 * xs.length);
  const dv = new DataView(b.buffer);
  xs.forEach((x, i) => dv.setUint32(4 * i, x, true));
  return b;
};

/**
 * 12-byte packet prefixes, never followed by what they declare: 2^20 frames in a 1 MiB body
 * (which once reserved 8 MiB per connection), the largest first packet allowed, 16 frames.
 */
const HOSTILE = [
  u32(MiB, 0, 2 ** 20),
  u32(MAX_FIRST_PACKET, MAX_FIRST_PACKET - 8, 0),
  u32(64 * 1024, 64 * 1024 - 8 - 64, 16),
];

/** A process's resident memory in bytes, from /proc. */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return Number(m![1]) * 1024;
}

/** Keeps reading a process's stdout so its pipe never fills; resolves at its end. */
async function pump(p: CliProcess, seen: string[]): Promise<void> {
  for (let r; !(r = await p.lines.next()).done;) seen.push(r.value);
}

async function stop(p: CliProcess, pumping: Promise<void>): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* gone */ }
  await p.child.status;
  await pumping;
  await p.errText;
  try {
    await p.child.stdin.close();
  } catch { /* closed */ }
}

Deno.test({
  name: "a scheduler flooded by 2,000 hostile connections keeps its memory and serves a client",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const sched = spawnDeno(schedulerArgs());
    const schedOut: string[] = [];
    const [, address] = await readUntil(sched.lines, /^Scheduler at: (tcp:\/\/\S+)$/, schedOut);
    const schedPumping = pump(sched, schedOut);
    const worker = spawnDeno([
      new URL("worker/main.ts", root).href,
      address,
      "--nworkers",
      "1",
      "--nthreads",
      "1",
    ]);
    const workerOut: string[] = [];
    await readUntil(worker.lines, /^Worker at: tcp:\/\//, workerOut);
    const workerPumping = pump(worker, workerOut);
    const hostile: Deno.TcpConn[] = [];
    let sampling: ReturnType<typeof setInterval> | undefined;
    try {
      // The baseline: a scheduler that has started and served one task
      {
        await using client = await Client.connect(address);
        assert.equal(await client.submit((x: number) => x + 1, 1), 2);
      }
      const pid = sched.child.pid;
      const baseline = rss(pid);
      let peak = baseline;
      sampling = setInterval(() => peak = Math.max(peak, rss(pid)), 20);

      const { hostname, port } = new URL(address.replace(/^tcp:/, "http:"));
      for (let i = 0; i < FLOOD; i += WAVE) {
        const wave = await Promise.all(
          Array.from({ length: WAVE }, async (_, j) => {
            const c = await Deno.connect({ hostname, port: Number(port) });
            await c.write(HOSTILE[(i + j) % HOSTILE.length]);
            return c;
          }),
        );
        hostile.push(...wave);
      }
      // With all of them held open, a real client connects and gets work done.
      {
        await using client = await Client.connect(address);
        assert.equal(await client.submit((x: number) => x + 1, 1), 2);
        assert.equal(Object.keys((await client.schedulerInfo()).workers).length, 1);
      }
      peak = Math.max(peak, rss(pid));
      assert.ok(
        peak - baseline < 50 * MiB,
        `the scheduler's RSS went from ${(baseline / MiB).toFixed(0)} MiB to ` +
          `${(peak / MiB).toFixed(0)} MiB under the flood`,
      );
    } finally {
      clearInterval(sampling);
      for (const c of hostile) c.close();
      await stop(worker, workerPumping);
      await stop(sched, schedPumping);
    }
  },
});
