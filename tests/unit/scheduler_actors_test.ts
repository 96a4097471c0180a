/**
 * Actor tasks in the scheduler's state machine: placed on the worker holding the fewest actors,
 * sent as actors, reported ready where they ran, and supervised when their worker leaves:
 * re-created elsewhere while re-creations last (`actorRestarts`), erred otherwise ("the worker
 * holding this actor was lost"), never recomputed as lost data.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { erred, sim } from "../fixtures/scheduler_harness.ts";

/** An actor task spec with `restarts` re-creations. */
const actor = (k: string, restarts = 0, deps: string[] = []) => t(k, deps, { ac: restarts });

Deno.test("an actor task goes to its worker as an actor, and is ready there once made", () => {
  const x = sim([1]);
  x.submit([actor("Counter-1")]);
  const [msg] = x.computes("a");
  assert.equal(msg.k, "Counter-1");
  assert.equal(msg.ac, true);
  assert.deepEqual(x.s.actorStatus("Counter-1"), { kind: "pending" });
  x.finish("Counter-1");
  assert.deepEqual(x.out.actors, [{ kind: "ready", key: "Counter-1", worker: "a" }]);
  assert.deepEqual(x.s.actorStatus("Counter-1"), { kind: "ready", worker: "a" });
  x.submit([t("plain-1")]);
  assert.equal(x.computes("a").at(-1)!.ac, undefined, "an ordinary task is not an actor");
});

Deno.test("actors balance: each new actor goes to the worker holding the fewest", () => {
  const x = sim([4, 1]);
  x.submit([actor("A-1")]);
  x.finish("A-1");
  x.submit([actor("A-2")]);
  assert.notEqual(x.on("A-2"), x.holders("A-1")[0], "two actors on two workers");
  x.finish("A-2");
  x.submit([actor("A-3"), actor("A-4")]);
  const places = [x.holders("A-1")[0], x.holders("A-2")[0], x.on("A-3"), x.on("A-4")];
  assert.equal(places.filter((w) => w === "a").length, 2);
  assert.equal(places.filter((w) => w === "b").length, 2);
});

Deno.test("many actors never queue on the scheduler as root tasks", () => {
  const x = sim([1]);
  const specs = Array.from({ length: 8 }, (_, i) => actor(`Many-${i}`));
  x.submit(specs);
  for (const s of specs) assert.equal(x.state(s.k), "processing");
});

Deno.test("an unknown key, a plain task, and a released actor are no actor to call", () => {
  const x = sim([1]);
  x.submit([t("plain-1"), actor("Gone-1")]);
  x.finish("plain-1");
  x.finish("Gone-1");
  assert.deepEqual(x.s.actorStatus("nope"), { kind: "gone" });
  assert.deepEqual(x.s.actorStatus("plain-1"), { kind: "gone" });
  x.release(["Gone-1"]);
  assert.deepEqual(x.freed("a"), ["Gone-1"], "the worker drops it (and its instance)");
  assert.deepEqual(x.s.actorStatus("Gone-1"), { kind: "gone" });
  assert.deepEqual(x.out.actors.at(-1), { kind: "gone", key: "Gone-1" });
});

Deno.test("an actor whose constructor threw errs, and calls hear its error", () => {
  const x = sim([1]);
  x.submit([actor("Bad-1")]);
  x.err("Bad-1");
  const status = x.s.actorStatus("Bad-1");
  assert.equal(status.kind, "failed");
  assert.deepEqual(x.out.actors, [{
    kind: "failed",
    key: "Bad-1",
    error: x.task("Bad-1").exception,
  }]);
});

Deno.test("with restarts left, an actor whose worker dies is re-created on another", () => {
  const x = sim([1, 1]);
  x.submit([actor("Sup-1", 1)]);
  const first = x.on("Sup-1");
  const other = first === "a" ? "b" : "a";
  x.finish("Sup-1", first);
  x.out.actors.length = 0;
  x.removeWorker(first);
  assert.deepEqual(x.out.actors[0], { kind: "restarting", key: "Sup-1", worker: first });
  assert.equal(x.state("Sup-1"), "processing", "made again: the actor task runs once more");
  assert.equal(x.on("Sup-1"), other);
  assert.deepEqual(x.s.actorStatus("Sup-1"), { kind: "pending" }, "calls wait for it");
  assert.equal(x.s.actors.get(x.task("Sup-1"))!.restarts, 0, "one re-creation used");
  x.finish("Sup-1", other);
  assert.deepEqual(x.out.actors.at(-1), { kind: "ready", key: "Sup-1", worker: other });
  assert.match(x.out.events.join("\n"), /re-creating actor Sup-1 .* 0 re-creations left/);
  // its re-creations are used up: the next loss errs it
  x.addWorker("c");
  x.removeWorker(other);
  assert.equal(x.state("Sup-1"), "erred");
  const [e] = erred(x.takeClient());
  assert.equal(e.e.name, "ActorLostError");
  assert.match(e.e.message, /the worker holding this actor was lost/);
});

Deno.test("with no restarts, an actor whose worker dies errs and is never recomputed", () => {
  const x = sim([1, 1]);
  x.submit([actor("Lost-1"), t("dep-1", ["Lost-1"])], ["Lost-1", "dep-1"]);
  const on = x.on("Lost-1");
  x.finish("Lost-1", on);
  x.takeClient();
  x.removeWorker(on);
  assert.equal(x.state("Lost-1"), "erred");
  assert.equal(x.computed(on === "a" ? "b" : "a").includes("Lost-1"), false, "not recomputed");
  const failed = x.out.actors.at(-1)!;
  assert.equal(failed.kind, "failed");
  assert.match(failed.kind === "failed" ? failed.error.message : "", /holding this actor was lost/);
  const errs = erred(x.takeClient());
  assert.deepEqual(errs.map((m) => m.k).sort(), ["Lost-1", "dep-1"], "its dependents err too");
  assert.equal(x.s.actorStatus("Lost-1").kind, "failed");
});

Deno.test("copies of an actor's key elsewhere are no instance: they are freed when it is lost", () => {
  const x = sim([1, 1]);
  x.submit([actor("Copied-1")]);
  const on = x.on("Copied-1");
  const other = on === "a" ? "b" : "a";
  x.finish("Copied-1", on);
  x.replicasArrived(other, ["Copied-1"]); // e.g. a dependent there fetched the handle
  assert.deepEqual(x.holders("Copied-1").sort(), ["a", "b"]);
  x.removeWorker(on);
  assert.equal(x.state("Copied-1"), "erred", "lost with its instance, despite the copy");
  assert.deepEqual(x.freed(other), ["Copied-1"]);
});

Deno.test("a released actor is forgotten: its worker's death re-creates nothing", () => {
  const x = sim([1, 1]);
  x.submit([actor("Unwanted-1", 3)]);
  const on = x.on("Unwanted-1");
  x.finish("Unwanted-1", on);
  x.release(["Unwanted-1"]);
  assert.equal(x.s.tasks.has("Unwanted-1"), false);
  x.out.actors.length = 0;
  x.removeWorker(on);
  assert.deepEqual(x.out.actors, []);
});

Deno.test("rebalance and replicate leave an actor's key on the worker holding its instance", () => {
  const x = sim([1, 1]);
  x.submit([actor("Counter-1")]);
  const home = x.on("Counter-1");
  x.finish("Counter-1", home, 10);
  x.submit([t("big-1"), t("small-1")]);
  const big = x.on("big-1");
  x.finish("big-1", big, 1000);
  x.finish("small-1", x.on("small-1"), 1);
  const moves = x.rebalance();
  assert.ok(moves.every((m) => m.key !== "Counter-1"), JSON.stringify(moves));
  assert.equal(x.replicate(["Counter-1"], 2).size, 0, "no copy of an actor is made");
  assert.deepEqual(x.holders("Counter-1"), [home]);
  assert.deepEqual(x.s.actorStatus("Counter-1"), { kind: "ready", worker: home });
});
