/** The actors' mailbox: one stimulus at a time, in order; reused message stimuli copied to wait. */
import assert from "node:assert/strict";
import { feedMessages, Mailbox } from "../../actor/mailbox.ts";

type S = { kind: "tick"; n: number } | { kind: "message"; msg: string | null };

Deno.test("mailbox: a stimulus posted while one is handled runs after it, copied if reused", () => {
  const seen: string[] = [];
  const failed: string[] = [];
  let handler: ((msg: string) => void) | undefined;
  const box: Mailbox<S> = new Mailbox<S>({
    handle: (s) => {
      if (s.kind === "message") {
        seen.push(`message ${s.msg}`);
        if (s.msg === "boom") throw new Error("boom");
        return;
      }
      seen.push(`tick ${s.n}`);
      if (s.n === 1) {
        handler!("a"); // arrives while tick 1 is handled: waits, and keeps "a"
        handler!("boom");
        box.receive({ kind: "tick", n: 2 });
      }
    },
    failed: (s, e) => failed.push(`${s.kind}: ${(e as Error).message}`),
  });
  const reused: S = { kind: "message", msg: null };
  feedMessages(
    { start: (h: (msg: string) => void) => (handler = h) },
    reused,
    (s) => box.receive(s),
  );
  box.receive({ kind: "tick", n: 1 });
  assert.deepEqual(seen, ["tick 1", "message a", "message boom", "tick 2"]);
  assert.deepEqual(failed, ["message: boom"]);
  assert.equal((reused as { msg: string | null }).msg, null, "no message outlives its handling");
  assert.throws(() => handler!("boom"), /boom/, "handled at once, a throw reaches the caller");
});
