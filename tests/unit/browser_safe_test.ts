// client/mod.ts must load with no permissions at all: no Deno.* and no node: on its import graph.
import assert from "node:assert/strict";

Deno.test("client/mod.ts imports with no permissions", async () => {
  const url = new URL("../../client/mod.ts", import.meta.url).href;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const code = `import * as m from ${JSON.stringify(url)};
    if (typeof m.Client?.connect !== "function") throw new Error("no Client");
    console.log("loaded");`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, code);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--config", config, file],
    env: { NO_COLOR: "1" },
  }).output().finally(() => Deno.remove(file));
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  assert.match(new TextDecoder().decode(out.stdout), /loaded/);
});
