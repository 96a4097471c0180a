/**
 * Cluster membership: workers joining and leaving, what is rescheduled, recomputed or cancelled
 * when one is lost, and missing data.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { validateState } from "../../scheduler/validate_state.ts";
import type { KeysCancelled } from "../../comm/protocol.ts";
import { cancelled, erred, inMemory, sim } from "../fixtures/scheduler_harness.ts";

// ------------------------------------------------------------------ workers coming and going

Deno.test("a worker registering again at the same address replaces the old one", () => {
  const x = sim([1]);
  x.submit([t("r-1"), t("r-2")]);
  x.finish("r-1");
  x.addWorker("a", 2);
  assert.equal(x.s.workers.size, 1);
  assert.equal(x.task("r-2").suspicious, 1);
  assert.equal(x.on("r-1"), "a", "lost with the old one: computed again");
  assert.equal(x.on("r-2"), "a");
});

// ------------------------------------------------------------------ lost workers

Deno.test("removeWorker: processing tasks are rescheduled and counted suspicious", () => {
  const x = sim([2, 1], { workerSaturation: Infinity });
  x.submit([t("r-0"), t("r-1"), t("r-2")]);
  const onA = [...x.s.workers.get("a")!.processing].map((ts) => ts.key);
  x.removeWorker("a");
  for (const k of onA) {
    assert.equal(x.on(k), "b");
    assert.equal(x.task(k).suspicious, 1);
    assert.equal(x.task(k).lastDeadWorker, "a");
  }
  assert.equal(x.processingCount("b"), 3);
});

Deno.test("removeWorker expected (retire): rescheduled, not suspicious", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("r-0"), t("r-1")]);
  x.removeWorker("a", true);
  assert.equal(x.task("r-0").suspicious + x.task("r-1").suspicious, 0);
  assert.equal(x.processingCount("b"), 2);
});

Deno.test("removeWorker with no other worker: tasks wait for one", () => {
  const x = sim([1]);
  x.submit([t("r-0"), t("b-1", ["r-0"])], ["b-1"]);
  x.removeWorker("a");
  assert.deepEqual(x.states(["r-0", "b-1"]), ["no-worker", "waiting"]);
  x.addWorker("z");
  assert.equal(x.on("r-0"), "z");
});

Deno.test("KilledWorker after allowedFailures + 1 deaths", () => {
  for (const allowedFailures of [0, 1, 3]) {
    const x = sim([1], { allowedFailures });
    x.submit([t("r-0"), t("b-1", ["r-0"])], ["b-1"]);
    for (let i = 0; i <= allowedFailures; i++) {
      assert.equal(x.state("r-0"), "processing", `death ${i}`);
      x.removeWorker(x.on("r-0"));
      x.addWorker(`w${i}`);
    }
    assert.deepEqual(x.states(["r-0", "b-1"]), ["erred", "erred"]);
    const [e] = erred(x.takeClient());
    assert.equal(e.k, "b-1");
    assert.equal(e.blame, "r-0");
    assert.equal(e.e.name, "KilledWorker");
    assert.match(e.e.message, new RegExp(`${allowedFailures + 1} different workers`));
    const last = allowedFailures === 0 ? "a" : `w${allowedFailures - 1}`;
    assert.match(e.e.message, new RegExp(`last worker was ${last}\\b`));
  }
});

Deno.test("memory lost with its worker is recomputed from lineage when still wanted", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("b-1", ["a-1"])], ["a-1", "b-1"]);
  const w = x.on("a-1");
  x.finish("a-1", w);
  x.finish("b-1", x.on("b-1"));
  const other = w === "a" ? "b" : "a";
  const bOn = x.holders("b-1")[0];
  x.removeWorker(w);
  assert.equal(x.state("a-1"), "processing");
  assert.equal(x.on("a-1"), other);
  assert.equal(x.state("b-1"), bOn === w ? "waiting" : "memory");
  assert.match(x.out.events.join("\n"), /lost \d computed and 0 scattered keys/);
});

Deno.test("memory lost with its worker: a dependent on another worker runs again after", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("a-2"), t("b-1", ["a-1", "a-2"])], ["b-1"]);
  const w1 = x.on("a-1");
  x.finish("a-1", w1, 10);
  x.finish("a-2", x.on("a-2"), 1e9);
  const wb = x.on("b-1");
  assert.notEqual(wb, w1, "b-1 goes where most bytes are");
  x.removeWorker(w1);
  assert.equal(x.state("a-1"), "processing", "recomputed");
  // b-1's worker cannot fetch a-1 from the dead worker
  x.missing("b-1", "a-1", w1, wb);
  assert.equal(x.state("b-1"), "waiting");
  x.finish("a-1", x.on("a-1"));
  assert.equal(x.state("b-1"), "processing");
  x.finish("b-1");
  assert.deepEqual(inMemory(x.takeClient()), ["b-1"]);
});

Deno.test("a replica survives the loss of one holder: nothing recomputed", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1")]);
  x.finish("a-1", "a", 8);
  x.finish("a-1", "b", 8);
  x.flush();
  x.removeWorker("a");
  assert.equal(x.state("a-1"), "memory");
  assert.deepEqual(x.holders("a-1"), ["b"]);
  assert.deepEqual(x.computed("b"), []);
});

Deno.test("scattered data lost with its worker: keys-cancelled, dependents cancelled too", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.addClient("d");
  x.submit([t("s-1")]);
  const w = x.on("s-1");
  x.finish("s-1", w, 100);
  x.scattered("s-1");
  x.submit([t("b-1", ["s-1"])], ["b-1"], "d");
  x.takeClient("c");
  x.removeWorker(w);
  assert.equal(x.state("s-1"), "forgotten");
  assert.equal(x.state("b-1"), "forgotten");
  const mc = x.takeClient("c") as KeysCancelled[];
  assert.deepEqual(cancelled(mc), ["s-1"]);
  assert.match(mc[0].reason, new RegExp(`scattered.*${w}|${w}.*scattered`));
  assert.deepEqual(cancelled(x.takeClient("d")), ["b-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.equal(x.s.clients.has("c"), true);
  assert.deepEqual(x.wantedBy("c"), []);
  assert.match(x.out.events.join("\n"), /0 computed and 1 scattered keys/);
});

Deno.test("scattered data lost: a processing dependent on another worker is stopped", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("s-1"), t("big-1")]);
  const w = x.on("s-1"), wb = x.on("big-1");
  assert.notEqual(w, wb);
  x.finish("s-1", w, 1);
  x.finish("big-1", wb, 1e9);
  x.scattered("s-1");
  x.submit([t("b-1", ["s-1", "big-1"])], ["b-1"]);
  assert.equal(x.on("b-1"), wb, "where most input bytes are");
  x.flush();
  x.removeWorker(w);
  assert.equal(x.state("b-1"), "forgotten");
  assert.deepEqual(x.freed(wb), ["b-1"]);
  assert.deepEqual(cancelled(x.takeClient()).sort(), ["b-1", "s-1"]);
  assert.equal(x.state("big-1"), "memory", "still wanted");
});

Deno.test("scattered data with a dependent in memory: that result stays", () => {
  const x = sim([1, 1]);
  x.submit([t("s-1")], ["s-1"]);
  x.finish("s-1", "a", 1);
  x.scattered("s-1");
  x.submit([t("b-1", ["s-1"])], ["b-1"]);
  x.finish("b-1", "a");
  x.finish("b-1", "b"); // a replica elsewhere
  x.takeClient();
  x.removeWorker("a");
  assert.deepEqual(cancelled(x.takeClient()), ["s-1"]);
  assert.equal(x.state("b-1"), "memory");
  x.release(["b-1"]);
  assert.equal(x.s.tasks.size, 0);
});

Deno.test("scattered data released, then a dependent is lost: it cannot be recomputed", () => {
  const x = sim([1, 1]);
  x.submit([t("s-1")], ["s-1"]);
  x.finish("s-1", "a", 1);
  x.scattered("s-1");
  x.submit([t("b-1", ["s-1"])], ["b-1"]);
  x.finish("b-1", "a");
  x.release(["s-1"]);
  assert.equal(x.state("s-1"), "released");
  x.takeClient();
  x.removeWorker("a");
  assert.deepEqual(cancelled(x.takeClient()), ["b-1"]);
  assert.equal(x.s.tasks.size, 0);
  assert.deepEqual(x.computed("b"), [], "nothing runs without its scattered input");
});

Deno.test("missing-data: the holder is dropped; the only copy gone means recompute", () => {
  const x = sim([1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1"), t("a-2"), t("b-1", ["a-1", "a-2"])], ["b-1"]);
  const w1 = x.on("a-1");
  x.finish("a-1", w1, 10);
  x.finish("a-2", x.on("a-2"), 1e9);
  const wb = x.on("b-1");
  x.flush();
  x.missing("b-1", "a-1", w1, wb);
  assert.equal(x.state("a-1"), "processing", "recomputed");
  assert.equal(x.state("b-1"), "waiting");
  assert.equal(x.s.workers.get(w1)!.nbytes, 0);
  x.finish("a-1");
  x.finish("b-1");
  assert.equal(x.state("b-1"), "memory");
});

Deno.test("missing-data: another holder remains; the task runs again with it", () => {
  const x = sim([1, 1, 1], { workerSaturation: Infinity });
  x.submit([t("a-1")]);
  x.finish("a-1", "a", 10);
  x.finish("a-1", "b", 10);
  x.submit([t("r-1"), t("r-2")]); // keep a and b busy
  x.submit([t("b-1", ["a-1"])]);
  const wb = x.on("b-1");
  x.missing("b-1", "a-1", "a", wb);
  assert.deepEqual(x.holders("a-1"), ["b"]);
  assert.equal(x.state("b-1"), "processing");
  const m = x.computes(x.on("b-1")).findLast((c) => c.k === "b-1")!;
  assert.ok(m.d["a-1"].length === 0 || m.d["a-1"][0] === "b");
});

Deno.test("missing-data about a task not processing there: only the holder is dropped", () => {
  const x = sim([1, 1]);
  x.submit([t("a-1")]);
  x.finish("a-1", "a", 10);
  x.finish("a-1", "b", 10);
  x.s.missingData("b", "zz-1", "a-1", "a");
  validateState(x.s);
  assert.deepEqual(x.holders("a-1"), ["b"]);
  x.s.missingData("b", "zz-1", "a-1", "b");
  validateState(x.s);
  assert.equal(x.state("a-1"), "processing", "still wanted: recomputed");
});
