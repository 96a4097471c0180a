// The client is an actor: its scheduler's messages, its connection opening and closing, its
// flush tick and values fetched from workers enter through one receive, and its keys settle
// there. A Future pending when its user closes the client says the client was closed.
import assert from "node:assert/strict";
import { CancelledError, Client, LocalCluster } from "../../mod.ts";
import { ClientParts } from "../../client/client_parts.ts";
import { KeyState } from "../../client/future.ts";
import type { ClientStimulus } from "../../client/stimulus.ts";

/** Records the stimuli every client receives, and each key settled outside `receive`. */
function spy() {
  const kinds = new Set<string>();
  const outside: string[] = [];
  let depth = 0;
  const receive = ClientParts.prototype.receive;
  ClientParts.prototype.receive = function (this: ClientParts, s: ClientStimulus) {
    kinds.add(s.kind);
    depth++;
    try {
      receive.call(this, s);
    } finally {
      depth--;
    }
  };
  const settle = KeyState.prototype.settle;
  KeyState.prototype.settle = function (this: KeyState, ...args) {
    if (depth === 0) outside.push(`${this.key} ${args[0]}`);
    settle.apply(this, args);
  };
  const restore = () => {
    ClientParts.prototype.receive = receive;
    KeyState.prototype.settle = settle;
  };
  return { kinds, outside, restore };
}

Deno.test("a client's keys settle only inside its receive; closing settles the pending ones cancelled", async () => {
  const { kinds, outside, restore } = spy();
  try {
    await using cluster = await LocalCluster.start({
      nWorkers: 2,
      threadsPerWorker: 1,
      processes: false,
      dashboardAddress: null,
    });
    const client = await Client.connect(cluster);
    const doubled = client.map((x: number) => x * 2, [1, 2, 3, 4, 5]);
    assert.deepEqual(await client.gather(doubled), [2, 4, 6, 8, 10]);
    const bad = client.submit(() => {
      throw new RangeError("no");
    });
    await assert.rejects(bad.result(), /no/);
    const forever = client.submit(() => new Promise(() => {}));
    await client.close();
    const e = await forever.exception();
    assert.ok(e instanceof CancelledError, String(e));
    assert.match(e.message, /the client was closed/);
    assert.equal(forever.status, "cancelled");
    assert.deepEqual(outside, []);
    for (const k of ["message", "flush", "connection-closed"]) assert.ok(kinds.has(k), k);
  } finally {
    restore();
  }
});
