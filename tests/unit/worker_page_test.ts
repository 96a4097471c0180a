// The dashboard's worker page: its log lines are HTML-escaped; a worker that did not answer says so.
import assert from "node:assert/strict";
import { workerPage } from "../../dashboard/pages/worker_page.ts";
import type { WorkerRow } from "../../dashboard/pages/model.ts";

const row: WorkerRow = {
  address: "tcp://127.0.0.1:1",
  name: "0",
  nthreads: 2,
  memoryLimit: 0,
  memory: { rss: 0, managed: 0, unmanaged: 0, spilled: 0 },
  status: "running",
  processing: 0,
  stored: 0,
  lastSeen: 100,
  cpu: 1,
};

Deno.test("a worker page escapes its log lines and marks the levels above INFO", () => {
  const html = workerPage("/p", row, [
    ["INFO", "<script>alert(1)</script>"],
    ["WARNING", "a & b"],
  ]);
  assert.ok(!html.includes("<script>alert"));
  assert.ok(html.includes("&#60;script&#62;alert(1)&#60;/script&#62;"));
  assert.ok(html.includes("a &#38; b"));
  assert.match(html, /<span class="bad">WARNING<\/span>/);
  assert.match(html, /Logs \(2\)/);
});

Deno.test("a worker page says when the worker sent no log lines in time", () => {
  assert.match(workerPage("", row, null), /did not send its log lines within 5 s/);
  assert.match(workerPage("", row, []), /No line logged yet/);
});
