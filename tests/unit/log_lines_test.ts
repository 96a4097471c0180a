// A worker's last log lines: [level, message] pairs, the newest kept, the level guessed.
import assert from "node:assert/strict";
import { guessLevel, LogLines } from "../../worker/log_lines.ts";

Deno.test("a log line's level is guessed from its words", () => {
  assert.equal(guessLevel("[worker] Start worker at: tcp://127.0.0.1:1"), "INFO");
  assert.equal(guessLevel("[worker] error accepting tcp://x: boom"), "ERROR");
  assert.equal(guessLevel("[worker] dropping a tick stimulus"), "WARNING");
  assert.equal(guessLevel("Unmanaged memory use is high (warning)"), "WARNING");
});

Deno.test("log lines keep the newest ones, oldest first, stamped with their time", () => {
  const lines = new LogLines(2);
  lines.add("one", Date.UTC(2026, 0, 1));
  lines.add("two", Date.UTC(2026, 0, 2));
  lines.add("three failed", Date.UTC(2026, 0, 3));
  assert.deepEqual(lines.lines(), [
    ["INFO", "2026-01-02T00:00:00.000Z two"],
    ["ERROR", "2026-01-03T00:00:00.000Z three failed"],
  ]);
});
