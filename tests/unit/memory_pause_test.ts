// When a worker pauses for memory and when it runs again: past the pause threshold of its RSS;
// back under it by a band of its limit (hysteresis), so it does not flap at the threshold.
import assert from "node:assert/strict";
import { resolveMemoryConfig } from "../../worker/memory_config.ts";
import { pauseMessage, shouldPause, UNPAUSE_BAND } from "../../worker/memory_pause.ts";

const MiB = 2 ** 20;
const config = resolveMemoryConfig(400 * MiB, {}); // pause at 0.8: 320 MiB

Deno.test("a running worker pauses past the pause threshold, not at it", () => {
  assert.equal(config.pause, 320 * MiB);
  assert.equal(shouldPause(config, 320 * MiB, false), false);
  assert.equal(shouldPause(config, 320 * MiB + 1, false), true);
  assert.equal(shouldPause(config, 100 * MiB, false), false);
});

Deno.test("a paused worker runs again only once under the threshold by the band (hysteresis)", () => {
  const resume = 320 * MiB - UNPAUSE_BAND * 400 * MiB; // 300 MiB
  assert.equal(
    shouldPause(config, 319 * MiB, true),
    true,
    "just under the threshold: still paused",
  );
  assert.equal(shouldPause(config, resume + 1, true), true);
  assert.equal(shouldPause(config, resume, true), false);
  assert.equal(shouldPause(config, 50 * MiB, true), false);
});

Deno.test("pausing off (memoryPause: false) or no memory limit: never paused", () => {
  const off = resolveMemoryConfig(400 * MiB, { memoryPause: false });
  assert.equal(shouldPause(off, 10_000 * MiB, false), false);
  assert.equal(shouldPause(off, 10_000 * MiB, true), false);
  const unlimited = resolveMemoryConfig(0, {});
  assert.equal(shouldPause(unlimited, 10_000 * MiB, false), false);
});

Deno.test("the pause and resume lines say the share of the limit, the process memory and the limit", () => {
  assert.equal(
    pauseMessage(config, 340 * MiB, true),
    "Worker is at 85% memory usage. Pausing worker. Process memory: 340.00 MiB -- " +
      "Worker memory limit: 400.00 MiB",
  );
  assert.match(pauseMessage(config, 200 * MiB, false), /^Worker is at 50% memory usage\. Resuming/);
});
