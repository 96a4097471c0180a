/** The extensions SchedulerState composes declare the message ops they handle, each op once. */
import assert from "node:assert/strict";
import { CLIENT_OPS, WORKER_OPS } from "../../comm/protocol.ts";
import { SchedulerState } from "../../scheduler/state.ts";

Deno.test("each extension declares the ops it handles; no op has two owners", () => {
  const s = new SchedulerState({ worker() {}, client() {}, event() {} });
  const owner = new Map<string, string>();
  for (const ext of s.extensions) {
    const name = ext.constructor.name;
    for (const op of ext.handles) {
      assert.ok(CLIENT_OPS.has(op) || WORKER_OPS.has(op), `${name} handles unknown op ${op}`);
      assert.ok(!owner.has(op), `${op} is handled by ${owner.get(op)} and ${name}`);
      owner.set(op, name);
    }
  }
  // the ops whose state changes the state machine owns
  for (
    const op of [
      "update-graph",
      "release-keys",
      "request-values",
      "cancel-keys",
      "retry-keys",
      "fire-and-forget",
      "scatter",
      "update-data",
      "task-finished",
      "task-erred",
      "task-crashed",
      "long-running",
      "missing-data",
      "steal-response",
    ]
  ) assert.ok(owner.has(op), `no extension handles ${op}`);
});
