// The disk half of spilling, on real files in a temporary directory: values go to disk and come
// back byte for byte, at most four file operations run at once, removal and close clean up, and
// failures say what failed and why.
import assert from "node:assert/strict";
import { SpillError } from "../../core/errors.ts";
import { SHARED_MIN } from "../../comm/limits.ts";
import { Payload } from "../../comm/payload.ts";
import { MAX_IN_FLIGHT, spillSize, SpillStore } from "../../worker/store.ts";
import { cleanStale, spillBase, STALE_UNLOCKED_AGE } from "../../worker/spill_dir.ts";

/** Bytes 0, 1, 2, … (mod 251) starting at `seed`, so misplaced bytes show. */
function bytes(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 251;
  return b;
}

/** A store under a fresh base directory, removed (with the store closed) after `body`. */
async function withStore(body: (store: SpillStore, base: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "spill-test-" });
  const store = new SpillStore({ localDirectory: base });
  try {
    await body(store, base);
  } finally {
    await store.close();
    await Deno.remove(base, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function assertSamePayload(got: Payload, want: Payload): void {
  assert.deepEqual([...got.header], [...want.header]);
  assert.equal(got.frames.length, want.frames.length);
  got.frames.forEach((f, i) => assert.deepEqual([...f], [...want.frames[i]], `frame ${i}`));
}

Deno.test("payloads with zero, one and several frames come back byte for byte", async () => {
  await withStore(async (store) => {
    const cases = [
      new Payload(bytes(13), []),
      new Payload(bytes(0), []),
      new Payload(bytes(8, 1), [bytes(3, 2)]),
      new Payload(bytes(21, 3), [bytes(SHARED_MIN + 5, 4)]),
      new Payload(bytes(7, 5), [bytes(1, 6), bytes(0), bytes(9, 7), bytes(SHARED_MIN, 8)]),
    ];
    // frames that are views into a larger buffer are written as they are
    const big = bytes(1000, 9);
    cases.push(new Payload(big.subarray(3, 10), [big.subarray(11, 500), big.subarray(501, 999)]));
    const sizes = await Promise.all(cases.map((p, id) => store.write(id, p)));
    const dir = await store.directory;
    assert.ok(dir !== undefined);
    for (const [id, p] of cases.entries()) {
      assert.equal(sizes[id], spillSize(p));
      assert.equal((await Deno.stat(`${dir}/${id}.spill`)).size, spillSize(p), `file ${id}`);
      const back = await store.read(id);
      assertSamePayload(back, p);
      assert.ok(back.header.buffer instanceof ArrayBuffer, "the header is never shared");
      const region = p.frames.reduce((n, f) => n + f.byteLength + (-f.byteLength & 7), 0);
      for (const f of back.frames) {
        const Want = region >= SHARED_MIN ? SharedArrayBuffer : ArrayBuffer;
        assert.ok(f.buffer instanceof Want, `case ${id}: frames on a ${Want.name}`);
      }
      if (back.frames.length > 1) {
        assert.equal(new Set(back.frames.map((f) => f.buffer)).size, 1, "frames share a region");
      }
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.equal(store.spillBytes, total);
    assert.equal(store.unspillBytes, total);
    assert.ok(store.spillSeconds > 0 && store.unspillSeconds > 0);
  });
});

Deno.test("spillSize pads the header and each frame to 8 bytes", () => {
  assert.equal(spillSize(new Payload(bytes(0), [])), 0);
  assert.equal(spillSize(new Payload(bytes(1), [])), 8);
  assert.equal(spillSize(new Payload(bytes(8), [bytes(9), bytes(0), bytes(16)])), 8 + 16 + 0 + 16);
});

Deno.test("the store makes no directory until its first write", async () => {
  await withStore(async (store, base) => {
    assert.equal(await store.directory, undefined);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(base)), []);
    await store.write(1, new Payload(bytes(5), []));
    const dir = await store.directory;
    assert.ok(dir?.startsWith(`${base}/worker-`));
    assert.equal((await Deno.readTextFile(`${dir}/pid`)).trim(), String(Deno.pid));
    assert.ok(await exists(`${dir}/lock`));
  });
});

Deno.test("at most four operations run at once, and reads go before queued writes", async () => {
  await withStore(async (store) => {
    await store.write(0, new Payload(bytes(10), [])); // the directory exists from here on
    let max = 0;
    let done = false;
    const order: string[] = [];
    const writes = Array.from(
      { length: 24 },
      (_, i) =>
        store.write(i + 1, new Payload(bytes(9), [bytes(256 * 1024, i)])).then((n) => {
          order.push(`write ${i + 1}`);
          return n;
        }),
    );
    const watcher = (async () => {
      while (!done) {
        max = Math.max(max, store.inFlight);
        await new Promise((r) => setTimeout(r, 0));
      }
    })();
    max = Math.max(max, store.inFlight);
    await new Promise((r) => setTimeout(r, 0)); // the writes are queued behind the first four
    const read = store.read(0).then((p) => {
      order.push("read");
      return p;
    });
    await Promise.all([...writes, read]);
    done = true;
    await watcher;
    assert.ok(max <= 4, `${max} operations ran at once`);
    assert.ok(max >= 2, "writes overlapped");
    assert.equal(MAX_IN_FLIGHT, 4);
    assert.ok(order.indexOf("read") < order.indexOf("write 12"), order.join(", "));
    assert.equal(store.inFlight, 0);
  });
});

Deno.test("remove during a write waits for it, then the file is gone and reads reject", async () => {
  await withStore(async (store) => {
    await store.write(1, new Payload(bytes(3), []));
    const dir = (await store.directory)!;
    const p = new Payload(bytes(11), [bytes(8 * 1024 * 1024)]);
    let written = false;
    const writing = store.write(2, p).then((n) => {
      written = true;
      return n;
    });
    await store.remove(2);
    assert.ok(written, "remove resolves only after the write");
    assert.equal(await writing, spillSize(p));
    assert.equal(await exists(`${dir}/2.spill`), false);
    await assert.rejects(store.read(2), (e) => {
      assert.ok(e instanceof SpillError);
      assert.match(e.message, /no spill file for id 2/);
      return true;
    });
    assertSamePayload(await store.read(1), new Payload(bytes(3), []));
  });
});

Deno.test("reading an id never written or already removed rejects clearly", async () => {
  await withStore(async (store) => {
    await assert.rejects(store.read(7), SpillError, "no spill file for id 7");
    await store.write(7, new Payload(bytes(4), [bytes(100)]));
    await store.remove(7);
    await store.remove(7); // a second removal is harmless
    await assert.rejects(store.read(7), /no spill file for id 7: it was never written/);
    const dir = (await store.directory)!;
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
      "lock",
      "pid",
    ]);
  });
});

Deno.test("writing an id twice rejects and keeps the first value", async () => {
  await withStore(async (store) => {
    const first = new Payload(bytes(6), [bytes(20)]);
    await store.write(3, first);
    await assert.rejects(store.write(3, new Payload(bytes(2), [])), /spill id 3 is already/);
    assertSamePayload(await store.read(3), first);
  });
});

Deno.test("close drops queued operations, removes the directory and releases the lock", async () => {
  const base = await Deno.makeTempDir({ prefix: "spill-test-" });
  try {
    const store = new SpillStore({ localDirectory: base });
    await store.write(0, new Payload(bytes(5), []));
    const dir = (await store.directory)!;
    const writes = Array.from(
      { length: 12 },
      (_, i) => store.write(i + 1, new Payload(bytes(5), [bytes(128 * 1024)])),
    );
    await new Promise((r) => setTimeout(r, 0)); // the writes are queued
    await store.close();
    const outcomes = await Promise.allSettled(writes);
    const dropped = outcomes.filter((o) => o.status === "rejected");
    assert.ok(dropped.length > 0, "queued writes were dropped");
    for (const o of dropped) assert.match(String(o.reason), /spill store (is )?closed/);
    assert.equal(await exists(dir), false);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(base)), []);
    await assert.rejects(store.write(99, new Payload(bytes(1), [])), /spill store is closed/);
    await assert.rejects(store.read(0), /spill store is closed/);
    await store.remove(0);
    await store.close(); // idempotent
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a spill directory under a regular file fails writes and the store still closes", async () => {
  const base = await Deno.makeTempDir({ prefix: "spill-test-" });
  try {
    await Deno.writeTextFile(`${base}/file`, "not a directory");
    const store = new SpillStore({ localDirectory: `${base}/file/scratch` });
    const results = await Promise.allSettled([
      store.write(1, new Payload(bytes(5), [])),
      store.write(2, new Payload(bytes(5), [bytes(10)])),
    ]);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok(r.reason instanceof SpillError);
      assert.match(
        r.reason.message,
        new RegExp(`^cannot create spill directory ${base}/file/scratch: Not a directory`),
      );
    }
    await assert.rejects(store.write(3, new Payload(bytes(5), [])), /cannot create spill dir/);
    await assert.rejects(store.read(1), /no spill file for id 1/);
    await store.close();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a failed write names the file and the OS's words, and leaves no entry", async () => {
  await withStore(async (store) => {
    await store.write(1, new Payload(bytes(5), []));
    const dir = (await store.directory)!;
    await Deno.remove(dir, { recursive: true }); // the disk goes away under the store
    await assert.rejects(
      store.write(2, new Payload(bytes(5), [])),
      (e) => {
        assert.ok(e instanceof SpillError);
        assert.equal(
          e.message,
          `writing spill file ${dir}/2.spill failed: No such file or directory (os error 2)`,
        );
        return true;
      },
    );
    await assert.rejects(store.read(2), /no spill file for id 2/);
    await assert.rejects(
      store.read(1),
      new RegExp(`^SpillError: reading spill file ${dir}/1.spill failed: No such file`),
    );
  });
});

Deno.test("a file cut short is reported as such when read", async () => {
  await withStore(async (store) => {
    await store.write(1, new Payload(bytes(5), [bytes(100)]));
    const dir = (await store.directory)!;
    await Deno.truncate(`${dir}/1.spill`, 50);
    await assert.rejects(store.read(1), /reading spill file .*1\.spill failed: .*ends \d+ bytes/);
  });
});

Deno.test("cleanStale removes dead workers' directories and keeps live ones", async () => {
  // flock locks belong to an open file description: a second handle in this process conflicts
  // with one held here just as a lock held by another process would.
  const base = await Deno.makeTempDir({ prefix: "spill-test-" });
  const otherPid = String(Deno.pid + 1_000_000);
  const make = async (name: string, files: Record<string, string>) => {
    await Deno.mkdir(`${base}/${name}`);
    for (const [f, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${base}/${name}/${f}`, text);
    }
    return `${base}/${name}`;
  };
  const old = new Date(Date.now() - 2 * STALE_UNLOCKED_AGE);
  const held = await Deno.open(
    await make("worker-live", { lock: "", pid: otherPid }).then(
      (d) => `${d}/lock`,
    ),
  );
  const store = new SpillStore({ localDirectory: base });
  try {
    assert.ok(await held.tryLock(true));
    await make("worker-dead", { lock: "", pid: otherPid, "3.spill": "x" });
    await make("worker-ours", { lock: "", pid: String(Deno.pid) });
    await make("worker-young", { pid: otherPid });
    await Deno.utime(await make("worker-old", { pid: otherPid }), old, old);
    await Deno.utime(await make("worker-old-nopid", { lock: "" }), old, old);
    await make("worker-young-nopid", { lock: "" });
    await make("other-dir", { lock: "", pid: otherPid });
    await store.write(1, new Payload(bytes(5), []));
    const own = (await store.directory)!.slice(base.length + 1);

    await cleanStale(base);
    const left = (await Array.fromAsync(Deno.readDir(base))).map((e) => e.name).sort();
    assert.deepEqual(
      left,
      ["other-dir", own, "worker-live", "worker-ours", "worker-young", "worker-young-nopid"]
        .sort(),
    );
    assertSamePayload(await store.read(1), new Payload(bytes(5), []));

    held.close(); // the live worker dies
    store.cleanStaleInBackground();
    await store.close(); // awaits the sweep
    const after = (await Array.fromAsync(Deno.readDir(base))).map((e) => e.name).sort();
    assert.deepEqual(after, ["other-dir", "worker-ours", "worker-young", "worker-young-nopid"]);
  } finally {
    try {
      held.close();
    } catch { /* closed above */ }
    await store.close();
    await Deno.remove(base, { recursive: true });
  }
  await cleanStale(`${base}/missing`); // no base directory: nothing to do, no error
});

Deno.test("the default base is dtask-scratch under TMPDIR", () => {
  const tmp = Deno.env.get("TMPDIR");
  assert.equal(spillBase(), `${(tmp || "/tmp").replace(/\/+$/, "")}/dtask-scratch`);
  assert.equal(spillBase("/data/spill"), "/data/spill");
});
