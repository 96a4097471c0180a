// What a listener advertises (never tcp://0.0.0.0), when it warns, and command-line durations.
import assert from "node:assert/strict";
import {
  advertisedAddress,
  parseContactAddress,
  reachableHost,
} from "../../comm/contact_address.ts";
import { exposureWarning } from "../../comm/exposure.ts";
import { parseDuration } from "../../worker/duration.ts";

const eth = [
  { family: "IPv4" as const, address: "127.0.0.1" },
  { family: "IPv6" as const, address: "fd00::2" },
  { family: "IPv4" as const, address: "10.1.2.3" },
];

Deno.test("a wildcard listener advertises the first non-loopback IPv4 address", () => {
  assert.equal(advertisedAddress("tcp://0.0.0.0:4000", undefined, eth), "tcp://10.1.2.3:4000");
  assert.equal(advertisedAddress("tcp://[::]:4000", undefined, eth), "tcp://10.1.2.3:4000");
  assert.equal(
    advertisedAddress("tcp://0.0.0.0:4000", undefined, [eth[0]]),
    "tcp://127.0.0.1:4000",
  );
  assert.equal(advertisedAddress("tcp://127.0.0.1:4000", undefined, eth), "tcp://127.0.0.1:4000");
  assert.equal(advertisedAddress("inproc://x", undefined, eth), "inproc://x");
  assert.equal(reachableHost([]), "127.0.0.1");
  assert.doesNotMatch(advertisedAddress("tcp://0.0.0.0:1"), /0\.0\.0\.0/); // this machine
});

Deno.test("a contact address replaces the host, and the port when it names one", () => {
  const listen = "tcp://0.0.0.0:4000";
  assert.equal(advertisedAddress(listen, "tcp://203.0.113.9"), "tcp://203.0.113.9:4000");
  assert.equal(advertisedAddress(listen, "203.0.113.9"), "tcp://203.0.113.9:4000");
  assert.equal(advertisedAddress(listen, "tcp://203.0.113.9:9000"), "tcp://203.0.113.9:9000");
  assert.equal(advertisedAddress(listen, "node7:9000"), "tcp://node7:9000");
  assert.equal(advertisedAddress(listen, "[fd00::2]"), "tcp://[fd00::2]:4000");
  assert.deepEqual(parseContactAddress("node7"), { host: "node7" });
  for (const bad of ["tcp://0.0.0.0:1", "0.0.0.0", "ws://a:1", "", "tcp://", "a:b:c"]) {
    assert.throws(() => parseContactAddress(bad), /not an address peers can dial/, bad);
  }
});

Deno.test("a TLS listener advertises tls://, also with a tcp:// or bare contact address", () => {
  assert.equal(advertisedAddress("tls://0.0.0.0:4000", undefined, eth), "tls://10.1.2.3:4000");
  assert.equal(advertisedAddress("tls://127.0.0.1:4000", undefined, eth), "tls://127.0.0.1:4000");
  assert.equal(advertisedAddress("tls://0.0.0.0:4000", "tcp://node7"), "tls://node7:4000");
  assert.equal(advertisedAddress("tls://0.0.0.0:4000", "tls://node7:9000"), "tls://node7:9000");
  assert.equal(advertisedAddress("tls://0.0.0.0:4000", "node7"), "tls://node7:4000");
});

Deno.test("listening beyond loopback without a token warns; with one, or on loopback, not", () => {
  const o = { who: "the scheduler", fix: "Use --auth-token-file." };
  assert.match(exposureWarning("0.0.0.0", o)!, /^WARNING: the scheduler listens on 0\.0\.0\.0/);
  assert.match(exposureWarning("10.1.2.3", o)!, /Use --auth-token-file\.$/);
  assert.equal(exposureWarning("0.0.0.0", { ...o, authToken: "t" }), null);
  assert.equal(exposureWarning("127.0.0.1", o), null);
  assert.equal(exposureWarning("localhost", o), null);
});

Deno.test("durations as Dask writes them; a plain number is seconds", () => {
  assert.equal(parseDuration("60s", "--death-timeout"), 60_000);
  assert.equal(parseDuration("500ms", "--death-timeout"), 500);
  assert.equal(parseDuration("2", "--death-timeout"), 2000);
  assert.equal(parseDuration("1.5", "--death-timeout"), 1500);
  assert.equal(parseDuration("2m", "--death-timeout"), 120_000);
  assert.equal(parseDuration("1h", "--death-timeout"), 3_600_000);
  for (const bad of ["", "s", "-1s", "10 parsecs", "1e3"]) {
    assert.throws(() => parseDuration(bad, "--death-timeout"), /--death-timeout takes a duration/);
  }
});
