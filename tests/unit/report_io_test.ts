// A performance report's transfers and disk I/O: summed per action, drawn in their own colours,
// and left out of the compute time per prefix.
import assert from "node:assert/strict";
import type { TaskStreamRecord } from "../../client/cluster_calls.ts";
import { ioTotals, prefixTotals, type ReportData } from "../../diagnostics/report_data.ts";
import { reportHtml } from "../../diagnostics/report_html.ts";

function record(
  key: string,
  action: TaskStreamRecord["action"],
  start: number,
  stop: number,
  nbytes: number,
): TaskStreamRecord {
  return {
    key,
    worker: "tcp://w:1",
    startstops: [{ action, start, stop }],
    status: "OK",
    action,
    nbytes,
  };
}

const records = [
  record("inc-1", "compute", 0, 10, 8),
  record("transfer-2", "transfer", 10, 30, 2048),
  record("disk-write", "disk-write", 30, 34, 1024),
  record("disk-write", "disk-write", 34, 40, 1024),
  record("disk-read", "disk-read", 40, 42, 1024),
];

Deno.test("I/O is summed per action and kept out of the compute time per prefix", () => {
  assert.deepEqual(ioTotals(records), [
    { action: "transfer", count: 1, bytes: 2048, totalMs: 20 },
    { action: "disk-write", count: 2, bytes: 2048, totalMs: 10 },
    { action: "disk-read", count: 1, bytes: 1024, totalMs: 2 },
  ]);
  assert.deepEqual(prefixTotals(records).map((p) => [p.prefix, p.count]), [["inc", 1]]);
  assert.deepEqual(ioTotals(records.slice(0, 1)), []);
});

Deno.test("the report draws I/O in its own colours and tables bytes and time per action", () => {
  const data: ReportData = {
    title: "t",
    version: "0",
    start: 0,
    stop: 50,
    schedulerAddress: "tcp://s:1",
    tasks: records,
    prefixes: prefixTotals(records),
    io: ioTotals(records),
    sampleInterval: 250,
    memory: [],
    notes: [],
  };
  const html = reportHtml(data);
  for (
    const [action, colour] of [["transfer", "#d62728"], ["disk-write", "#ff9900"], [
      "disk-read",
      "#e6b800",
    ]]
  ) {
    assert.match(html, new RegExp(`<rect[^>]*fill="${colour}" data-action="${action}"`));
  }
  assert.match(html, /id="io"[\s\S]*>disk-write<\/td><td data-v="2">2<\/td><td data-v="2048">/);
  assert.match(html, / 1 tasks /);
  const empty = reportHtml({ ...data, tasks: [], prefixes: [], io: [] });
  assert.match(empty, /No value moved between workers or to disk/);
});
