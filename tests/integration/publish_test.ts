// The package as JSR gets it: `deno publish --dry-run` passes (types, slow types, licence) and
// ships the library with its dashboard files, without the tests, benchmarks and deployment.
import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { root } from "./cli_process.ts";

const rootPath = fileURLToPath(root);

/** The files `deno publish --dry-run` would upload, relative to the project's root. */
async function dryRunFiles(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: rootPath,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `deno publish --dry-run failed:\n${text}`);
  assert.match(text, /Dry run complete/);
  return [...text.matchAll(/^\s+(file:\/\/\S+) \(/gm)].map((m) =>
    relative(rootPath, fileURLToPath(m[1]))
  );
}

Deno.test("deno publish --dry-run passes and ships the library, its dashboard files and licence only", async () => {
  const files = await dryRunFiles();
  const shipped = new Set(files);
  for (
    const f of [
      "LICENSE",
      "README.md",
      "deno.json",
      "mod.ts",
      "client/mod.ts",
      "scheduler/main.ts",
      "worker/main.ts",
      "worker/process.ts",
      "cluster/scheduler_file.ts",
    ]
  ) assert.ok(shipped.has(f), `${f} is not in the package`);
  // the scheduler serves these itself, read relative to dashboard/assets.ts
  for (const entry of Deno.readDirSync(new URL("dashboard/assets/", root))) {
    const f = `dashboard/assets/${entry.name}`;
    assert.ok(shipped.has(f), `${f} is not in the package: the dashboard would miss it`);
  }
  const leaked = files.filter((f) =>
    /^(tests|bench|deploy|examples|docs\/plans|\.ci|node_modules)\//.test(f) ||
    f.endsWith("_test.ts") || f === "deno.lock"
  );
  assert.deepEqual(leaked, [], "files that are not the library's would be published");
});

/** The `--flags` a text names. */
const flagsIn = (text: string) => new Set(text.match(/--[a-z][a-z-]*/g));

Deno.test("the CLI modules' docs, which JSR shows for ./scheduler and ./worker, name every flag of --help", async () => {
  for (const cli of ["scheduler/main.ts", "worker/main.ts"]) {
    const source = await Deno.readTextFile(new URL(cli, root));
    const moduleDoc = source.slice(0, source.indexOf("*/"));
    assert.match(moduleDoc, /@module/, `${cli}'s first comment is not its module doc`);
    const help = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "-q", new URL(cli, root).href, "--help"],
      stdin: "null",
    }).output();
    assert.equal(help.code, 0);
    const documented = flagsIn(moduleDoc);
    const missing = [...flagsIn(new TextDecoder().decode(help.stdout))]
      .filter((f) => !documented.has(f));
    assert.deepEqual(missing, [], `${cli}'s module doc does not mention these flags of --help`);
  }
});
