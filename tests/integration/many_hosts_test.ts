// A cluster on three hosts: the scheduler CLI and two worker CLIs, each in its own network
// namespace with its own address, with a token (and TLS, once the CLIs have it). Tasks pinned to
// one worker read values made on the other, so values cross the network between hosts; a host
// unplugged (its link down) is dropped after the scheduler's worker TTL, and a value held only
// there is computed again on the other host. Prints tasks/s and the MB/s of a 100 MB transfer.
import assert from "node:assert/strict";
import { Client, getWorker } from "../../mod.ts";
import { root } from "./cli_process.ts";
import { until } from "./helpers.ts";
import { makeNetnsLab, netnsUnavailable } from "../fixtures/netns.ts";
import { cliHasTls, clusterSecurity } from "../fixtures/cluster_security.ts";

const unavailable = await netnsUnavailable();
if (unavailable) console.warn(`many_hosts_test.ts skipped: ${unavailable}`);

const WORKER_TTL = 3000;
const MiB = 2 ** 20;

Deno.test({
  name: "many hosts: scheduler and workers in their own network namespaces, with a token and TLS",
  ignore: unavailable !== null,
  async fn(t) {
    const lab = await makeNetnsLab();
    const { addresses } = lab;
    const tls = await cliHasTls();
    if (!tls) console.warn("many hosts: the CLIs have no TLS yet: running with the token alone");
    const security = await clusterSecurity(Object.values(addresses), tls);
    let client: Client | undefined;
    let failed = true;
    let stepsFailed = false;
    const step = async (name: string, fn: () => Promise<void>) => {
      if (!(await t.step(name, fn))) stepsFailed = true;
    };
    try {
      const sched = lab.spawn("s", "scheduler", [
        new URL("scheduler/main.ts", root).href,
        "--host",
        addresses.s,
        "--port",
        "0",
        "--dashboard-address",
        "none",
        "--worker-ttl",
        String(WORKER_TTL),
        ...security.schedulerFlags,
      ]);
      const [, address] = await sched.line(/^Scheduler at: (\w+:\/\/\S+)$/);
      assert.ok(address.includes(`//${addresses.s}:`), `${address} is on the scheduler's host`);
      const worker = (host: "a" | "b") =>
        lab.spawn(host, `worker ${host}`, [
          new URL("worker/main.ts", root).href,
          address,
          "--host",
          addresses[host],
          "--name",
          host,
          "--nthreads",
          "1",
          ...security.workerFlags,
        ]);
      const [wa, wb] = await Promise.all(
        [worker("a"), worker("b")].map(async (p) => (await p.line(/^Worker at: (\w+:\/\/\S+)/))[1]),
      );
      assert.ok(wa.includes(`//${addresses.a}:`) && wb.includes(`//${addresses.b}:`));
      const scheme = security.tls ? "tls://" : "tcp://";
      for (const a of [address, wa, wb]) assert.ok(a.startsWith(scheme), `${a} is ${scheme}`);
      client = await Client.connect(address, security.clientOptions);
      const c = client;
      await c.waitForWorkers(2, { timeout: 20_000 });
      assert.deepEqual(Object.keys((await c.schedulerInfo()).workers).sort(), [wa, wb].sort());
      const onA = c.with({ workers: wa }), onB = c.with({ workers: wb });

      await step("tasks on b read 1 MiB values made on a", async () => {
        const made = Array.from(
          { length: 20 },
          (_, i) => onA.submit((n: number) => new Uint8Array(2 ** 20).fill(n), i),
        );
        const read = made.map((m) =>
          onB.submit((v: Uint8Array) => ({ n: v.length, first: v[0], at: getWorker().address }), m)
        );
        const got = await c.gather(read);
        assert.deepEqual(got, made.map((_, i) => ({ n: MiB, first: i, at: wb })));
        c.release([...made, ...read]);
      });

      await step("a 100 MB value made on a is read on b", async () => {
        const big = onA.submit(() => new Uint8Array(100_000_000).fill(7));
        await c.wait([big]);
        assert.equal(await onB.submit(() => 1), 1); // b is warm: what follows is the transfer
        const start = performance.now();
        const n = await onB.submit((v: Uint8Array) => v.length + v[99_999_999], big);
        const seconds = (performance.now() - start) / 1000;
        assert.equal(n, 100_000_007);
        console.log(
          `many hosts: 100 MB from a to b in ${seconds.toFixed(2)} s: ` +
            `${(100 / seconds).toFixed(0)} MB/s${security.tls ? " (TLS)" : ""}`,
        );
        c.release([big]);
      });

      await step("2,000 no-op tasks", async () => {
        const start = performance.now();
        const fs = c.map((i: number) => i, Array.from({ length: 2000 }, (_, i) => i));
        const got = await c.gather(fs);
        const seconds = (performance.now() - start) / 1000;
        assert.equal(got.length, 2000);
        assert.equal(got[1999], 1999);
        console.log(
          `many hosts: 2,000 no-op tasks in ${seconds.toFixed(2)} s: ` +
            `${(2000 / seconds).toFixed(0)} tasks/s`,
        );
        c.release(fs);
      });

      await step(
        "an unplugged host is dropped after the worker TTL; its value is made again",
        async () => {
          // over 1 MiB, so the value stays on b and does not come along to the client
          const held = c.with({ workers: wb, allowOtherWorkers: true }).submit(() => ({
            at: getWorker().address,
            pad: new Uint8Array(2 * 2 ** 20),
          }));
          await c.wait([held]);
          assert.deepEqual((await c.whoHas([held]))[held.key], [wb]);
          await lab.setLink("b", false);
          const cut = performance.now();
          await until(
            async () => !(wb in (await c.schedulerInfo()).workers),
            `the scheduler to drop ${wb}`,
            WORKER_TTL + 10_000,
          );
          const dropped = (performance.now() - cut) / 1000;
          assert.deepEqual(Object.keys((await c.schedulerInfo()).workers), [wa]);
          const asked = performance.now();
          const again = await held.result({ timeout: 20_000 });
          const recomputed = (performance.now() - asked) / 1000;
          assert.equal(again.at, wa, "computed again on a");
          assert.equal(again.pad.length, 2 * MiB);
          console.log(
            `many hosts: b dropped ${dropped.toFixed(1)} s after its link went down; its value ` +
              `made again on a in ${recomputed.toFixed(1)} s`,
          );
        },
      );
      failed = stepsFailed;
    } finally {
      await client?.close();
      await lab.close();
      await security.remove();
      if (failed) console.error(lab.describe());
    }
  },
});
