/**
 * The live dashboard's feed: per-prefix counts kept through the transitions (validated against
 * the tasks by the harness after every step), the task stream's cursor and columns, updates
 * sent only when something changed, pages that fall behind closed, and the prefix option.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import { sim } from "../fixtures/scheduler_harness.ts";
import { TaskStream } from "../../scheduler/event_log.ts";
import { Liveness } from "../../scheduler/liveness.ts";
import type { ClusterCalls } from "../../scheduler/cluster_calls.ts";
import { feedSource } from "../../scheduler/dashboard_source.ts";
import {
  DashboardFeed,
  FEED_BUFFER_LIMIT,
  type FeedSocket,
  FELL_BEHIND,
  progressOf,
  STREAM_MERGE_GAP,
  streamColumns,
} from "../../dashboard/feed.ts";
import type { FeedMessage, FeedSnapshot, FeedUpdate } from "../../dashboard/feed_protocol.ts";
import { normalizeDashboardPrefix } from "../../dashboard/prefix.ts";
import { EMPTY_PREFIXES_KEPT } from "../../scheduler/prefix_tallies.ts";

function progress(x: ReturnType<typeof sim>, prefix: string) {
  const tally = x.s.prefixStates.byPrefix.get(prefix);
  assert.ok(tally, `no tally for ${prefix}`);
  return progressOf(tally);
}

const none = { waiting: 0, queued: 0, processing: 0, memory: 0, erred: 0, released: 0 };

Deno.test("per-prefix counts follow every transition, and finished tasks stay done once forgotten", () => {
  const x = sim([1, 1]);
  x.submit([t("inc-1"), t("inc-2"), t("inc-3"), t("sum-1", ["inc-1", "inc-2", "inc-3"])], [
    "sum-1",
  ]);
  assert.deepEqual(progress(x, "inc"), { ...none, processing: 3 });
  assert.deepEqual(progress(x, "sum"), { ...none, waiting: 1 });
  x.finish("inc-1");
  assert.deepEqual(progress(x, "inc"), { ...none, processing: 2, memory: 1 });
  x.finish("inc-2");
  x.finish("inc-3");
  assert.deepEqual(progress(x, "inc"), { ...none, memory: 3 });
  assert.deepEqual(progress(x, "sum"), { ...none, processing: 1 });
  x.finish("sum-1");
  // the inputs are released (nobody needs them) and forgotten: done
  assert.deepEqual(progress(x, "inc"), { ...none, released: 3 });
  assert.deepEqual(progress(x, "sum"), { ...none, memory: 1 });
  x.release(["sum-1"]);
  assert.deepEqual(progress(x, "sum"), { ...none, released: 1 });
  assert.equal(x.s.tasks.size, 0);
  // an erring task, and its dependent
  x.submit([t("bad-1"), t("after-1", ["bad-1"])], ["after-1"]);
  x.err("bad-1");
  assert.deepEqual(progress(x, "bad"), { ...none, erred: 1 });
  assert.deepEqual(progress(x, "after"), { ...none, erred: 1 });
  // a reused prefix counts on from its done part
  x.submit([t("inc-9")]);
  assert.equal(progress(x, "inc").released, 3);
  assert.equal(progress(x, "inc").processing, 1);
});

Deno.test("the tallies of prefixes with no task left are bounded, the oldest dropped first", () => {
  const x = sim([1]);
  for (let i = 0; i <= EMPTY_PREFIXES_KEPT; i++) {
    x.submit([t(`p${i}-1`)], []); // wanted by nobody: forgotten at once
  }
  assert.equal(x.s.tasks.size, 0);
  assert.equal(x.s.prefixStates.byPrefix.size, EMPTY_PREFIXES_KEPT);
  assert.ok(!x.s.prefixStates.byPrefix.has("p0"));
  assert.ok(x.s.prefixStates.byPrefix.has(`p${EMPTY_PREFIXES_KEPT}`));
});

Deno.test("the task stream's cursor gives the entries pushed since, also across the ring's wrap", () => {
  const s = new TaskStream(4);
  assert.deepEqual(s.after(0), []);
  s.push("a-1", "w", 1, 2, true, 3);
  s.push("a-2", "w", 2, 3, false);
  const cursor = s.pushed;
  assert.equal(cursor, 2);
  assert.deepEqual(s.after(0).map((i) => s.keys[i]), ["a-1", "a-2"]);
  assert.equal(s.threads[s.after(0)[0]], 3);
  assert.equal(s.threads[s.after(0)[1]], 0);
  for (let i = 3; i <= 7; i++) s.push(`a-${i}`, "w", i, i + 1, true, i);
  // 5 pushed since the cursor, the ring holds 4
  assert.deepEqual(s.after(cursor).map((i) => s.keys[i]), ["a-4", "a-5", "a-6", "a-7"]);
  assert.deepEqual(s.after(cursor, 2).map((i) => s.keys[i]), ["a-6", "a-7"]);
  assert.deepEqual(s.after(s.pushed), []);
});

Deno.test("the feed's columns carry each entry's kind: transfers and disk I/O in their own", () => {
  const s = new TaskStream(8);
  s.push("inc-1", "w", 1, 2, true, 1);
  s.push("inc-2", "w", 2, 3, false, 0);
  s.pushIo("transfer-2", "w", 3, 4, 2, 1024, "v");
  s.pushIo("disk-write", "w", 4, 5, 3, 512);
  s.pushIo("disk-read", "w", 5, 6, 4, 512);
  const cols = streamColumns(s, s.after(0), 0);
  assert.deepEqual(cols.kind, [0, 1, 2, 3, 4]);
  assert.deepEqual(cols.thread, [1, 0, 0, 0, 0]);
  assert.deepEqual(cols.start.map((t) => cols.origin + t), [1, 2, 3, 4, 5]);
  assert.deepEqual(cols.prefix.map((p) => cols.prefixes[p]), [
    "inc",
    "inc",
    "transfer",
    "disk-write",
    "disk-read",
  ]);
  // the prefix the scheduler already knows is taken as it is
  s.push("load-data-1", "w", 6, 7, true, 0, 0, "known");
  assert.deepEqual(streamColumns(s, s.after(5), 0).prefixes, ["known"]);
});

Deno.test("the feed's columns merge back-to-back tasks of one thread, prefix and kind into runs", () => {
  const s = new TaskStream(64);
  // thread 0 of w: 10 short tasks 0.1 ms apart, interleaved with thread 1's and another worker's
  for (let k = 0; k < 10; k++) {
    s.push(`inc-${k}`, "w", 10 + k * 0.5, 10.4 + k * 0.5, true, 0);
    s.push(`inc-${100 + k}`, "w", 10 + k * 0.5, 10.4 + k * 0.5, true, 1);
    s.push(`inc-${200 + k}`, "v", 10 + k * 0.5, 10.4 + k * 0.5, true, 0);
  }
  s.push("inc-99", "w", 20, 21, true, 0); // a gap of more than STREAM_MERGE_GAP: a new run
  s.push("add-1", "w", 21.1, 22, true, 0); // another prefix: a new run
  s.push("add-2", "w", 22.1, 23, false, 0); // erred: a new run
  s.push("add-3", "w", 23.1, 24, false, 0); // ... which the next erred one joins
  const cols = streamColumns(s, s.after(0), 0);
  const rows = cols.start.map((start, i) => ({
    worker: cols.workers[cols.worker[i]],
    thread: cols.thread[i],
    prefix: cols.prefixes[cols.prefix[i]],
    kind: cols.kind[i],
    start,
    stop: cols.stop[i],
  }));
  assert.deepEqual(rows, [
    { worker: "w", thread: 0, prefix: "inc", kind: 0, start: 10, stop: 14.9 },
    { worker: "w", thread: 1, prefix: "inc", kind: 0, start: 10, stop: 14.9 },
    { worker: "v", thread: 0, prefix: "inc", kind: 0, start: 10, stop: 14.9 },
    { worker: "w", thread: 0, prefix: "inc", kind: 0, start: 20, stop: 21 },
    { worker: "w", thread: 0, prefix: "add", kind: 0, start: 21.1, stop: 22 },
    { worker: "w", thread: 0, prefix: "add", kind: 1, start: 22.1, stop: 24 },
  ]);
  assert.ok(STREAM_MERGE_GAP < 20 - 14.9);
});

class FakeSocket implements FeedSocket {
  bufferedAmount = 0;
  readonly sent: FeedMessage[] = [];
  closed: [number | undefined, string | undefined] | null = null;
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(code?: number, reason?: string): void {
    this.closed = [code, reason];
  }
}

function feedOf(x: ReturnType<typeof sim>, stream: TaskStream) {
  let wakes = 0;
  const liveness = new Liveness();
  for (const a of x.s.workers.keys()) liveness.seen(a, performance.now());
  const identity = { address: "tcp://s:1", id: "Scheduler-1", version: "0", started: 0 };
  const calls = { taskStream: stream } as unknown as ClusterCalls;
  const feed = new DashboardFeed(
    feedSource({ state: x.s, calls, liveness, identity }),
    () => wakes++,
  );
  return { feed, wakes: () => wakes };
}

Deno.test("a page gets a snapshot, then an update only when something changed, with the new stream entries", () => {
  const x = sim([2, 1]);
  const stream = new TaskStream(100);
  const { feed, wakes } = feedOf(x, stream);
  x.submit([t("slowinc-1"), t("slowinc-2"), t("other-1")]);
  x.finish("other-1");
  stream.push("other-1", x.on("slowinc-1"), 5, 6, true, 0);
  assert.equal(feed.tick(), false, "no page: the timer may stop");
  const page = new FakeSocket();
  feed.connect(page);
  assert.equal(wakes(), 1);
  assert.equal(feed.tick(1000), true);
  assert.equal(page.sent.length, 1);
  const snap = page.sent[0] as FeedSnapshot;
  assert.equal(snap.type, "snapshot");
  assert.equal(snap.identity.id, "Scheduler-1");
  assert.equal(snap.counts.processing, 2);
  assert.equal(snap.counts.memory, 1);
  assert.equal(snap.counts.forgotten, undefined);
  assert.deepEqual(snap.workers.map((w) => w.address).sort(), ["a", "b"]);
  assert.deepEqual(snap.progress.slowinc, { ...none, processing: 2 });
  assert.deepEqual(snap.progress.other, { ...none, memory: 1 });
  assert.deepEqual(snap.stream.prefixes, ["other"]);
  assert.equal(snap.stream.origin + snap.stream.start[0], 5);

  feed.tick(1100);
  assert.equal(page.sent.length, 1, "nothing changed: nothing sent");

  const on1 = x.on("slowinc-1"), on2 = x.on("slowinc-2");
  x.finish("slowinc-1");
  stream.push("slowinc-1", on1, 10, 20, true, 1);
  x.err("slowinc-2");
  stream.push("slowinc-2", on2, 11, 21, false, 0);
  feed.tick(1200);
  assert.equal(page.sent.length, 2);
  const up = page.sent[1] as FeedUpdate;
  assert.equal(up.type, "update");
  assert.equal(up.time, 1200);
  assert.deepEqual(Object.keys(up.progress), ["slowinc"], "only the prefix that changed");
  assert.deepEqual(up.progress.slowinc, { ...none, memory: 1, erred: 1 });
  const st = up.stream;
  assert.equal(st.start.length, 2, "only the entries since the previous message");
  assert.deepEqual(st.prefix.map((i) => st.prefixes[i]), ["slowinc", "slowinc"]);
  assert.deepEqual(st.worker.map((i) => st.workers[i]), [on1, on2]);
  assert.deepEqual(st.thread, [1, 0]);
  assert.deepEqual(st.kind, [0, 1]);
  assert.deepEqual(st.stop.map((t) => st.origin + t), [20, 21]);
  for (const col of [st.worker, st.thread, st.prefix, st.start, st.stop, st.kind]) {
    assert.equal(col.length, 2);
  }

  feed.tick(1300);
  assert.equal(page.sent.length, 2);
  feed.disconnect(page);
  assert.equal(feed.tick(), false);
});

Deno.test("a page that falls behind is closed; close() closes the rest", () => {
  const x = sim([1]);
  const { feed } = feedOf(x, new TaskStream(10));
  const slow = new FakeSocket(), fine = new FakeSocket();
  feed.connect(slow);
  feed.connect(fine);
  feed.tick();
  assert.equal(feed.pages, 2);
  slow.bufferedAmount = FEED_BUFFER_LIMIT + 1;
  x.submit([t("a-1")]);
  feed.tick();
  assert.equal(slow.closed?.[0], FELL_BEHIND);
  assert.equal(slow.sent.length, 1);
  assert.equal(fine.sent.length, 2);
  assert.equal(feed.pages, 1);
  feed.close();
  assert.equal(fine.closed?.[0], 1001);
  assert.equal(feed.pages, 0);
});

Deno.test("dashboardPrefix is normalised, and a prefix that is no plain path is refused", () => {
  assert.equal(normalizeDashboardPrefix(undefined), "");
  assert.equal(normalizeDashboardPrefix(""), "");
  assert.equal(normalizeDashboardPrefix("/"), "");
  assert.equal(normalizeDashboardPrefix("dask"), "/dask");
  assert.equal(normalizeDashboardPrefix("/dask/"), "/dask");
  assert.equal(normalizeDashboardPrefix("a/b"), "/a/b");
  for (const bad of ["/../x", "/a?b", "/a#b", "/a b", "/a%2f"]) {
    assert.throws(() => normalizeDashboardPrefix(bad), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /dashboardPrefix must be a plain URL path such as "\/dask"/);
      return true;
    });
  }
});
