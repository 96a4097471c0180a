// Client.connect waits for a scheduler that is not up yet (as Dask's client does), saying so
// once, until its timeout.
import assert from "node:assert/strict";
import { Client, Scheduler, TimeoutError } from "../../mod.ts";

/** A port nothing listens on (for now). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Runs `f` with console.warn captured. */
async function capturingWarnings<T>(f: (lines: string[]) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    return await f(lines);
  } finally {
    console.warn = warn;
  }
}

Deno.test("Client.connect waits for a scheduler that starts after it, with one line while it waits", async () => {
  const port = freePort();
  await capturingWarnings(async (lines) => {
    const connecting = Client.connect(`tcp://127.0.0.1:${port}`, { timeout: 30_000 });
    // the scheduler comes up once the client has been refused at least once
    const deadline = Date.now() + 10_000;
    while (lines.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(lines.length, 1, "the client says it waits");
    const scheduler = await Scheduler.start({ port, dashboardAddress: null });
    try {
      await using client = await connecting;
      assert.equal(client.status, "running");
      assert.match(lines[0], new RegExp(`^Waiting for the scheduler at tcp://127.0.0.1:${port} `));
      assert.match(lines[0], /retrying for up to 30 s$/);
      assert.equal(lines.length, 1, "one line, however many attempts");
    } finally {
      await scheduler.close();
    }
  });
});

Deno.test("Client.connect to an address where no scheduler comes gives up after its timeout", async () => {
  const port = freePort();
  await capturingWarnings(async () => {
    const e = await Client.connect(`tcp://127.0.0.1:${port}`, { timeout: 300 }).catch((e) => e);
    assert.ok(e instanceof TimeoutError, String(e));
    assert.match(e.message, /timed out after 300 ms \(last attempt: .*refused.*is the scheduler/is);
  });
});
