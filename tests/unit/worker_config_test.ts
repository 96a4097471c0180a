// The deno.json a worker process runs with: the main module's (found as Deno finds it), or the
// one given; and dtask's own npm imports do not depend on any project's import map.
import assert from "node:assert/strict";
import { configArgs, findConfig, mainConfig } from "../../worker/config.ts";
import { main } from "../../worker/main.ts";
import { planCluster } from "../../cluster/local_options.ts";

const REPO = new URL("../../", import.meta.url);

Deno.test("findConfig finds the nearest deno.json or deno.jsonc above a folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/a/b/c`, { recursive: true });
    await Deno.writeTextFile(`${dir}/a/deno.jsonc`, "{}");
    assert.equal(findConfig(`${dir}/a/b/c`), `${dir}/a/deno.jsonc`);
    await Deno.writeTextFile(`${dir}/a/b/deno.json`, "{}");
    assert.equal(findConfig(`${dir}/a/b/c`), `${dir}/a/b/deno.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configArgs: the one given (path or file URL), else the main module's", async () => {
  // the main module here is this test file: the repository's deno.json governs it
  const repoConfig = new URL("deno.json", REPO).pathname;
  assert.equal(mainConfig(), repoConfig);
  assert.deepEqual(configArgs(), ["--config", repoConfig]);
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    assert.deepEqual(configArgs(file), ["--config", file]);
    assert.deepEqual(configArgs(new URL(`file://${file}`)), ["--config", file]);
  } finally {
    await Deno.remove(file);
  }
  assert.throws(
    () => configArgs("/no/such/deno.json"),
    /config: \/no\/such\/deno\.json is not a file/,
  );
});

Deno.test("the worker command refuses a --config that is not a file", async () => {
  const errors: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    assert.equal(await main(["tcp://127.0.0.1:1", "--config", "/no/such/deno.json"]), 2);
  } finally {
    console.error = error;
  }
  assert.match(errors.join("\n"), /\/no\/such\/deno\.json is not a file/);
});

Deno.test("dtask's modules import npm packages by the specifiers deno.json maps them to", () => {
  const imports = JSON.parse(Deno.readTextFileSync(new URL("deno.json", REPO))).imports as Record<
    string,
    string
  >;
  const seen: string[] = [];
  const walk = (dir: URL) => {
    for (const e of Deno.readDirSync(dir)) {
      const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) walk(url);
      else if (e.name.endsWith(".ts")) {
        const text = Deno.readTextFileSync(url).split("\n")
          .filter((l) => !/^\s*(\*|\/\*|\/\/)/.test(l)) // not in comments (doc examples)
          .join("\n");
        const re = /(import\s+type\s[^;]*?from\s*|from\s*|import\s*\(\s*)["']([^"']+)["']/g;
        for (const m of text.matchAll(re)) {
          const spec = m[2];
          if (/^(\.|node:|jsr:)/.test(spec)) continue;
          if (m[1].startsWith("import type")) continue; // erased when the module runs
          const at = `${url.pathname.slice(REPO.pathname.length)}: ${spec}`;
          const npm = /^npm:((?:@[^/@]+\/)?[^/@]+)@([^/]+)/.exec(spec);
          assert.ok(npm, `${at}: a bare specifier needs the project's import map`);
          assert.equal(
            imports[npm[1]],
            `npm:${npm[1]}@${npm[2]}`,
            `${at}: not deno.json's version`,
          );
          seen.push(spec);
        }
      }
    }
  };
  for (
    const d of ["actor", "client", "cluster", "comm", "core", "dashboard", "scheduler", "worker"]
  ) {
    walk(new URL(`${d}/`, REPO));
  }
  assert.ok(seen.some((s) => s.startsWith("npm:msgpackr@")));
});

Deno.test("LocalCluster refuses a config that is not a file before it starts anything", () => {
  assert.throws(() => planCluster({ config: "/no/such/deno.json" }), TypeError);
});
