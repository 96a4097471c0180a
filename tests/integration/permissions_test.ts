// What the README promises about permissions and the first run: a client-only program needs
// --allow-net and msgpack's environment switch, nothing else; deno.json decides which npm build
// scripts run, so a first run warns about none.
import assert from "node:assert/strict";
import { LocalCluster } from "../../mod.ts";

const PROGRAM = new URL("../fixtures/client_only_program.ts", import.meta.url).href;
const CONFIG = new URL("../../deno.json", import.meta.url);

Deno.test("a client-only program runs with --allow-net and msgpack's environment switch alone", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net",
      "--allow-env=MSGPACKR_NATIVE_ACCELERATION_DISABLED",
      PROGRAM,
      cluster.schedulerAddress,
    ],
    env: { NO_COLOR: "1" },
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  assert.match(new TextDecoder().decode(out.stdout), /^result 42$/m);
});

Deno.test("deno.json says which npm build scripts run: msgpackr-extract's is denied (it ships prebuilt)", async () => {
  const config = JSON.parse(await Deno.readTextFile(CONFIG));
  assert.deepEqual(config.allowScripts, { deny: ["npm:msgpackr-extract"] });
  // the prebuilt native decoder loads without the script
  const msgpackr = await import("msgpackr");
  assert.equal(
    (msgpackr as { isNativeAccelerationEnabled?: boolean }).isNativeAccelerationEnabled,
    true,
  );
});
