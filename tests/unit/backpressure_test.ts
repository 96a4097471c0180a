/**
 * Backpressure, driven directly: a connection counts the bytes of values it has queued and says
 * when a peer falls behind; the scheduler's state machine stops asking workers to send results
 * along for a client that fell behind, and asks again once it caught up.
 */
import assert from "node:assert/strict";
import { Connection } from "../../comm/connection.ts";
import type { Transport } from "../../comm/transport.ts";
import type { Message, SchedulerToWorker } from "../../comm/protocol.ts";
import { encodeValue } from "../../comm/serialize.ts";
import { SchedulerState } from "../../scheduler/state.ts";
import { FN, t } from "../fixtures/task_specs.ts";

/** A transport whose writes complete only when the test says (a peer that stopped reading). */
class StalledTransport implements Transport {
  readonly peer = "test://stalled";
  writes: PromiseWithResolvers<void>[] = [];
  writeBatch(_batch: Message[]): Promise<void> {
    const w = Promise.withResolvers<void>();
    this.writes.push(w);
    return w.promise;
  }
  readBatch(): Promise<unknown[] | null> {
    return new Promise(() => {});
  }
  close(): void {}
}

const MB = 1_000_000;
const inMemory = (k: string) => ({
  op: "key-in-memory" as const,
  k,
  w: ["tcp://w:1"],
  v: encodeValue(new Uint8Array(MB)),
});

Deno.test("a connection counts queued value bytes and reports falling behind and catching up", async () => {
  const tr = new StalledTransport();
  const conn = new Connection(tr);
  const seen: boolean[] = [];
  conn.watchQueue(3 * MB, (over) => seen.push(over));
  conn.send(inMemory("a")); // goes out at once and stalls
  await Promise.resolve();
  assert.equal(tr.writes.length, 1);
  for (const k of ["b", "c", "d"]) conn.send(inMemory(k));
  conn.send({ op: "free-keys", keys: ["x"] }); // carries no value
  assert.ok(conn.queuedBytes > 4 * MB && conn.queuedBytes < 4.1 * MB, `${conn.queuedBytes}`);
  assert.deepEqual(seen, [true]);
  tr.writes[0].resolve(); // the peer reads again: b, c, d and free-keys go as one batch
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(tr.writes.length, 2);
  assert.ok(conn.queuedBytes > 3 * MB, "the batch in flight still counts");
  tr.writes[1].resolve();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(conn.queuedBytes, 0);
  assert.deepEqual(seen, [true, false]);
  conn.close();
});

Deno.test("a stalled client's tasks run without sending their results along", () => {
  const sent: SchedulerToWorker[] = [];
  const s = new SchedulerState({ worker: (_a, m) => sent.push(m), client() {}, event() {} }, {
    workStealing: false,
  });
  s.addWorker({ address: "w", name: "w", nthreads: 4, memoryLimit: 0, pid: 1 });
  s.addClient("c");
  s.addClient("d");
  const computes = () =>
    sent.filter((m) => m.op === "compute-task").map((m) => [m.k, m.op === "compute-task" && m.r]);
  s.clientStalled("c", true);
  s.updateGraph("c", { op: "update-graph", tasks: [t("x")], wanted: ["x"], functions: [FN] });
  s.updateGraph("d", { op: "update-graph", tasks: [t("y")], wanted: ["y"], functions: [] });
  s.updateGraph("c", { op: "update-graph", tasks: [], wanted: ["y"], functions: [] });
  assert.deepEqual(computes(), [["x", false], ["y", true]]);
  s.clientStalled("c", false);
  s.updateGraph("c", { op: "update-graph", tasks: [t("z")], wanted: ["z"], functions: [] });
  assert.deepEqual(computes().at(-1), ["z", true]);
});
