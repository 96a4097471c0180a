// The auth token on every listener: with a token set, the scheduler and every worker's peer
// port refuse a connection without it or with a wrong one (the same clear error), so nobody
// without the token reads or plants values; and a worker stores no value the scheduler did not
// announce, even from a peer that has the token.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { dial } from "../../comm/dial.ts";
import { PeerPool } from "../../comm/peer_pool.ts";
import { encodeValue } from "../../comm/serialize.ts";

const TOKEN = "s3cret-token-for-tests";

/** Every listener of a 2-process cluster with a token: the scheduler's and each worker's. */
async function withCluster(
  f: (cluster: LocalCluster, client: Client, addresses: string[]) => Promise<void>,
): Promise<void> {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    dashboardAddress: null,
    silenceLogs: true,
    authToken: TOKEN,
  });
  await using client = await Client.connect(cluster, { authToken: TOKEN });
  await client.waitForWorkers(2, { timeout: 20_000 });
  const addresses = [cluster.schedulerAddress, ...cluster.workers.map((w) => w.address)];
  assert.equal(addresses.length, 3);
  await f(cluster, client, addresses);
}

/** Fetches `keys` from `address` presenting `token`; returns the values or the error. */
async function tryGet(address: string, token: string | undefined, keys: string[]) {
  const pool = new PeerPool(dial, "probe", token);
  try {
    return await pool.getData(address, keys);
  } catch (e) {
    return e as Error;
  } finally {
    await pool.close();
  }
}

async function tryPut(address: string, token: string | undefined, key: string, value: unknown) {
  const pool = new PeerPool(dial, "probe", token);
  try {
    await pool.putData(address, { [key]: encodeValue(value) });
    return null;
  } catch (e) {
    return e as Error;
  } finally {
    await pool.close();
  }
}

Deno.test("auth: no token and a wrong token are refused on the scheduler and every worker port", async () => {
  await withCluster(async (_cluster, client, addresses) => {
    const x = client.submit((n: number) => n * 2, 21);
    assert.equal(await x, 42);
    for (const address of addresses) {
      for (const token of [undefined, "wrong", TOKEN + "x", ""]) {
        const got = await tryGet(address, token, [x.key]);
        assert.ok(got instanceof Error, `${address} served ${token ?? "no token"}`);
        assert.match(got.message, /authentication failed: the auth token is missing or wrong/);
        assert.equal(got.name, "ProtocolError");
      }
    }
    // a client without the token is refused at connect, with the same words
    await assert.rejects(
      Client.connect(addresses[0], { timeout: 5000 }),
      /authentication failed: the auth token is missing or wrong/,
    );
  });
});

Deno.test("auth: put-data without the token never reaches a worker's store", async () => {
  await withCluster(async (_cluster, client, addresses) => {
    const [, ...workers] = addresses;
    const x = client.submit((n: number) => n + 1, 41);
    assert.equal(await x, 42);
    for (const w of workers) {
      const err = await tryPut(w, undefined, x.key, -1332);
      assert.ok(err instanceof Error);
      assert.match(err.message, /authentication failed/);
    }
    // the real value is intact, and a task reading it gets it
    const y = client.submit((n: number) => n * 2, x);
    assert.equal(await y, 84);
  });
});

Deno.test("auth: a worker refuses put-data the scheduler did not announce, even with the token", async () => {
  await withCluster(async (_cluster, client, addresses) => {
    const [, ...workers] = addresses;
    const x = client.submit((n: number) => n + 1, 41);
    assert.equal(await x, 42);
    for (const w of workers) {
      // a planted replacement for a real key, and a planted key of its own
      for (const key of [x.key, "planted-1"]) {
        const err = await tryPut(w, TOKEN, key, new Uint8Array(1 << 20));
        assert.ok(err instanceof Error, `${w} stored an unannounced ${key}`);
        assert.match(err.message, /did not announce/);
        assert.equal(
          (await tryGet(w, TOKEN, ["planted-1"]) as Record<string, unknown>)["planted-1"],
          undefined,
        );
      }
    }
    assert.equal(await client.submit((n: number) => n * 2, x), 84);
    // scatter, which the scheduler announces, still works with the token
    const [s] = client.scatter([{ a: 1 }]);
    assert.deepEqual(await client.submit((v: { a: number }) => v.a + 1, s), 2);
    const who = await client.whoHas([s]);
    assert.equal(who[s.key].length, 1);
    // announced keys are taken once: a second put of the same key is refused
    const err = await tryPut(who[s.key][0], TOKEN, s.key, { a: 666 });
    assert.ok(err instanceof Error);
    assert.deepEqual(await client.submit((v: { a: number }) => v.a, s), 1);
  });
});
