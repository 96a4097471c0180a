// A program in its own project (its own deno.json and import map, dtask imported by path):
// its tasks import as the program does — import-map names and paths relative to the file that
// submitted them — on worker processes (which run with the project's deno.json) and on
// threads in the program's own process.
import assert from "node:assert/strict";

const REPO = new URL("../../", import.meta.url);

/** The program: it runs two tasks on worker processes, then on threads (`modes`). */
const program = (modes: string, config?: string) => `
import { Client, LocalCluster } from ${JSON.stringify(new URL("mod.ts", REPO).href)};
const out: Record<string, unknown> = {};
for (const processes of ${modes}) {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes,
    dashboardAddress: null,
    silenceLogs: true,
    config: ${JSON.stringify(config)},
  });
  await using client = await Client.connect(cluster);
  const run = async (what: string, fn: (x: number) => Promise<number>) => {
    try {
      out[\`\${what} (processes: \${processes})\`] = await client.submit(fn, 2);
    } catch (e) {
      out[\`\${what} (processes: \${processes})\`] = String(e);
    }
  };
  await run("import map", async (x) => (await import("myhelper")).f(x));
  await run("relative", async (x) => (await import("./lib/helper.ts")).f(x) + 1);
}
console.log(JSON.stringify(out));
`;

/** Runs `deno run -A -q ...args` in `dir`; the JSON object its last line prints. */
async function runIn(dir: string, args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", ...args],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

/** A project in a temporary folder: its helper module, and its configuration at `config`. */
async function project(config: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dtask-user-project-" });
  await Deno.mkdir(`${dir}/lib`);
  await Deno.mkdir(`${dir}/conf`);
  const toHelper = config.includes("/") ? "../lib/helper.ts" : "./lib/helper.ts";
  await Deno.writeTextFile(`${dir}/${config}`, JSON.stringify({ imports: { myhelper: toHelper } }));
  await Deno.writeTextFile(`${dir}/lib/helper.ts`, "export const f = (x: number) => x * 21;\n");
  // the repository's lockfile: the npm packages it pins are in the cache already
  await Deno.copyFile(new URL("deno.lock", REPO), `${dir}/deno.lock`);
  return dir;
}

Deno.test("tasks import through the project's import map and relative to their file", async () => {
  const dir = await project("deno.json");
  try {
    await Deno.writeTextFile(`${dir}/main.ts`, program("[true, false]"));
    assert.deepEqual(await runIn(dir, ["main.ts"]), {
      "import map (processes: true)": 42,
      "relative (processes: true)": 43,
      "import map (processes: false)": 42,
      "relative (processes: false)": 43,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a program started with --config gives it to its worker processes (config)", async () => {
  const dir = await project("conf/project.json");
  try {
    await Deno.writeTextFile(`${dir}/main.ts`, program("[true]", "conf/project.json"));
    assert.deepEqual(await runIn(dir, ["--config", "conf/project.json", "main.ts"]), {
      "import map (processes: true)": 42,
      "relative (processes: true)": 43,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
