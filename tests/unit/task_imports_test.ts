// A task function's dynamic imports: `import(` is routed through a function that resolves
// relative specifiers against the file the function was submitted from.
import assert from "node:assert/strict";
import { IMPORT_BINDING, resolveFrom, routeImports } from "../../core/task_imports.ts";
import { compileFunction } from "../../core/compile.ts";

const I = IMPORT_BINDING;

Deno.test("routeImports renames each dynamic import( and nothing else", () => {
  assert.equal(routeImports("(x) => x + 1"), null);
  assert.equal(
    routeImports('async () => (await import("./a.ts")).f(await import ("b"))'),
    `async () => (await ${I}("./a.ts")).f(await ${I} ("b"))`,
  );
  // strings, comments, templates, regular expressions, members and private names stay
  const untouched = [
    `() => "import('x')"`,
    "() => 'import(\\'x\\')'",
    "() => { // import('x')\n return 1 }",
    "() => /* import('x') */ 1",
    "() => `import('${1}')`",
    "() => /import(x)/.test(s)",
    "(s) => s.replace(/[/]import(x)/g, '')",
    "(o) => o.import(1)",
    "(o) => o?.import(1)",
    "class { #import() {} run() { return this.#import() } }",
    "() => import.meta",
  ];
  for (const src of untouched) assert.equal(routeImports(src), null, src);
  // inside a template's substitution it is code
  assert.equal(
    routeImports('async () => `${(await import("./a.ts")).v}`'),
    `async () => \`\${(await ${I}("./a.ts")).v}\``,
  );
  // a division is not a regular expression: the import after it is found
  assert.equal(
    routeImports('async (a, b) => a / b / (await import("./c.ts")).d'),
    `async (a, b) => a / b / (await ${I}("./c.ts")).d`,
  );
  assert.equal(I.length, "import".length); // columns in stack frames stay right
});

Deno.test("resolveFrom resolves relative specifiers against the site's file only", () => {
  const base = "file:///home/u/proj/main.ts";
  assert.equal(resolveFrom("./helper.ts", base), "file:///home/u/proj/helper.ts");
  assert.equal(resolveFrom("../lib/x.ts", base), "file:///home/u/lib/x.ts");
  assert.equal(resolveFrom("/abs.ts", base), "file:///abs.ts");
  for (
    const s of ["myhelper", "npm:chalk@5", "jsr:@std/path", "https://x.dev/m.ts", "file:///a.ts"]
  ) {
    assert.equal(resolveFrom(s, base), s);
  }
});

Deno.test("a compiled function imports relative to the file it was submitted from", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/helper.ts`, "export const f = (x: number) => x * 21;\n");
    const site = `${new URL(`file://${dir}/main.ts`).href}:7`;
    const fn = compileFunction(
      "useHelper",
      'async (x) => (await import("./helper.ts")).f(x)',
      {},
      site,
    );
    assert.equal(await fn(2), 42);
    // without a site, relative imports resolve as before (from dtask's compiling module)
    const lost = compileFunction("lost", 'async () => (await import("./helper.ts")).f(1)');
    await assert.rejects(lost() as Promise<unknown>, /core\/helper\.ts/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
