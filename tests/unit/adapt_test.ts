// Adaptive scaling's decisions (cluster/adapt.ts): the target, whom to retire, the options, and
// the loop against a fake cluster — up at once, down only after waitCount lower looks.
import assert from "node:assert/strict";
import {
  type AdaptHost,
  adaptTarget,
  type AdaptWorker,
  checkAdaptOptions,
  startAdaptive,
  workersToRetire,
} from "../../cluster/adapt.ts";

Deno.test("adaptTarget: one thread per task in flight, clamped to [minimum, maximum]", () => {
  const t = (work: number, threadsPerWorker = 1, minimum = 1, maximum = 4) =>
    adaptTarget({ work, threadsPerWorker, minimum, maximum });
  assert.equal(t(0), 1); // idle: the minimum
  assert.equal(t(0, 1, 0), 0);
  assert.equal(t(3), 3);
  assert.equal(t(200), 4); // capped
  assert.equal(t(5, 2), 3); // ceil(5 / 2)
  assert.equal(t(4, 2), 2);
  assert.equal(t(10, 1, 0, Infinity), 10);
});

Deno.test("workersToRetire: idle workers only, the fewest bytes first", () => {
  const w = (address: string, processing: number, nbytes: number): AdaptWorker => ({
    address,
    processing,
    nbytes,
  });
  const workers = [w("a", 0, 500), w("b", 2, 0), w("c", 0, 10), w("d", 0, 100)];
  assert.deepEqual(workersToRetire(workers, 2), ["c", "d"]);
  assert.deepEqual(workersToRetire(workers, 4), []);
  // only three are idle: the busy one stays although the target is lower
  assert.deepEqual(workersToRetire(workers, 0), ["c", "d", "a"]);
});

Deno.test("checkAdaptOptions: defaults as Dask's, and a TypeError naming a bad option", () => {
  assert.deepEqual(checkAdaptOptions({}), {
    minimum: 0,
    maximum: Infinity,
    interval: 1000,
    waitCount: 3,
  });
  assert.throws(() => checkAdaptOptions({ minimum: -1 }), TypeError);
  assert.throws(() => checkAdaptOptions({ minimum: 3, maximum: 2 }), /maximum must be/);
  assert.throws(() => checkAdaptOptions({ interval: 0 }), /interval/);
  assert.throws(() => checkAdaptOptions({ waitCount: 0 }), /waitCount/);
});

/** A cluster that only counts: workers are names, work is set by the test. */
class FakeCluster implements AdaptHost {
  readonly threadsPerWorker = 1;
  load = 0;
  busy = new Set<string>();
  names: string[] = ["w0"];
  seq = 1;
  looks = 0;
  retired: string[][] = [];
  work(): number {
    this.looks++;
    return this.load;
  }
  workers(): AdaptWorker[] {
    return this.names.map((address) => ({
      address,
      processing: this.busy.has(address) ? 1 : 0,
      nbytes: 0,
    }));
  }
  scaleUp(n: number): Promise<void> {
    while (this.names.length < n) this.names.push(`w${this.seq++}`);
    return Promise.resolve();
  }
  retire(addresses: string[]): Promise<void> {
    this.retired.push(addresses);
    this.names = this.names.filter((a) => !addresses.includes(a));
    return Promise.resolve();
  }
  warn(text: string): void {
    throw new Error(`unexpected warning: ${text}`);
  }
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

Deno.test("the loop grows at once and shrinks only after waitCount lower looks", async () => {
  const c = new FakeCluster();
  c.load = 10;
  const adaptive = startAdaptive(c, { minimum: 1, maximum: 3, interval: 5, waitCount: 3 });
  try {
    await until(() => c.names.length === 3, "growing to the maximum");
    assert.equal(c.looks, 1, "grown on the first look");
    c.busy = new Set(["w0"]);
    c.load = 1;
    const at = c.looks;
    await until(() => c.names.length === 1, "shrinking to the minimum");
    assert.ok(c.looks - at >= 3, `shrunk after ${c.looks - at} looks, not before 3`);
    assert.deepEqual(c.retired, [["w1", "w2"]], "the busy worker stays");
    // a look that wants more in between starts the count again
    c.load = 3;
    await until(() => c.names.length === 3, "growing again");
  } finally {
    await adaptive.stop();
  }
  const looks = c.looks;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(c.looks, looks, "no look after stop()");
});

Deno.test("a step that fails is reported and tried again at the next interval", async () => {
  const c = new FakeCluster();
  const warnings: string[] = [];
  c.warn = (text) => void warnings.push(text);
  let fails = 1;
  c.scaleUp = (n) => {
    if (fails-- > 0) return Promise.reject(new Error("no room"));
    return FakeCluster.prototype.scaleUp.call(c, n);
  };
  c.load = 2;
  const adaptive = startAdaptive(c, { minimum: 1, maximum: 2, interval: 5 });
  try {
    await until(() => c.names.length === 2, "growing after the failed step");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /a step failed \(tried again\): no room/);
  } finally {
    await adaptive.stop();
  }
});
