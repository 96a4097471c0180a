/**
 * The import graph of dtask's own modules (type imports included) has no cycle, and the layers
 * keep their arrows: `client/` never imports `scheduler/`, `worker/` or `cluster/`; the
 * scheduler's and the worker's state machines do no I/O.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);
const SOURCE_DIRS = [
  "actor",
  "client",
  "cluster",
  "comm",
  "core",
  "dashboard",
  "diagnostics",
  "scheduler",
  "worker",
];

/** Every dtask source module (not tests, benchmarks or examples), as a path from the root. */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(new URL(dir, root))];
    } catch {
      return; // a layer that does not exist (yet)
    }
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.name.endsWith(".ts")) out.push(path);
    }
  };
  for (const d of SOURCE_DIRS) walk(d);
  return ["mod.ts", ...out].sort();
}

/** The relative modules `path` imports or re-exports (static, dynamic and type-only). */
function importsOf(path: string): string[] {
  const text = Deno.readTextFileSync(new URL(path, root));
  const specs = new Set<string>();
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;
  for (const m of text.matchAll(re)) {
    if (!m[1].startsWith(".")) continue;
    const url = new URL(m[1], new URL(path, root));
    specs.add(url.href.slice(root.href.length));
  }
  return [...specs];
}

/** The graph's cycles, each as the list of modules around it (Tarjan's strongly connected sets). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], on = new Set<string>(), found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      for (let w = stack.pop()!;; w = stack.pop()!) {
        on.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1 || graph.get(v)!.includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

const graph = new Map(sourceFiles().map((f) => [f, importsOf(f)]));

Deno.test("import graph: no module imports itself through others (no cycle)", () => {
  const found = cycles(graph);
  assert.deepEqual(found, [], `import cycles:\n${found.map((c) => c.join(" -> ")).join("\n")}`);
});

Deno.test("import graph: client/ imports no scheduler/, worker/, cluster/ or diagnostics/ module", () => {
  const bad = [...graph].flatMap(([f, deps]) =>
    f.startsWith("client/")
      ? deps.filter((d) => /^(scheduler|worker|cluster|diagnostics)\//.test(d)).map((d) =>
        `${f} -> ${d}`
      )
      : []
  );
  assert.deepEqual(bad, []);
});

Deno.test("import graph: the walk sees the whole house", () => {
  assert.ok(graph.size > 50, `only ${graph.size} modules found`);
  assert.ok(graph.get("mod.ts")!.includes("client/mod.ts"));
});

Deno.test("import graph: core/ imports nothing of dtask but core/", () => {
  const bad = [...graph].flatMap(([f, deps]) =>
    f.startsWith("core/")
      ? deps.filter((d) => !d.startsWith("core/")).map((d) => `${f} -> ${d}`)
      : []
  );
  assert.deepEqual(bad, []);
});

/** What the pure state machines may import: core/, the protocol's types, and each other. */
const PURE = /^(core\/|comm\/protocol(\.ts|\/)|comm\/serialize\.ts$)/;

Deno.test("import graph: the state machines import only core/, the protocol and pure siblings", () => {
  // the scheduler's state machine is everything state.ts reaches inside scheduler/
  const machine = new Set<string>();
  const todo = ["scheduler/state.ts", "worker/state.ts"];
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    if (machine.has(f)) continue;
    machine.add(f);
    for (const d of graph.get(f) ?? []) if (!PURE.test(d)) todo.push(d);
  }
  const io = [...machine].filter((f) => !/^(scheduler|worker)\//.test(f));
  assert.deepEqual(
    io,
    [],
    "a state machine reaches a module outside its folder, core/ and the protocol",
  );
  for (const actor of ["scheduler/scheduler.ts", "worker/worker.ts", "worker/executor.ts"]) {
    assert.ok(!machine.has(actor), `a state machine imports ${actor}`);
  }
});

/** Modules that only a Deno process with TCP (or a listener) can use. */
const SERVER_ONLY =
  /^(comm\/(tcp|tcp_listener|dial|greeting|ws_listener)\.ts|mod\.ts|(cluster|scheduler|worker)\/.*)$/;

/** Comments, and the one Deno name that is a plain string (the inspect symbol), taken out. */
function codeOnly(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "").replace(
    /Symbol\.for\("Deno\.customInspect"\)/g,
    "",
  );
}

Deno.test("import graph: client/mod.ts (Deno Deploy, browsers) reaches no Deno.*, no node:, no TCP module", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("client/mod.ts", root).pathname],
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string }[] }[];
  };
  const local = info.modules.filter((m) => m.specifier.startsWith(root.href));
  const paths = local.map((m) => m.specifier.slice(root.href.length));
  assert.ok(paths.includes("comm/ws_transport.ts"), "the graph holds the WebSocket transport");
  assert.deepEqual(paths.filter((p) => SERVER_ONLY.test(p)), [], "server-only modules");
  const denoUses = paths.filter((p) =>
    /\bDeno\.\w/.test(codeOnly(Deno.readTextFileSync(new URL(p, root))))
  );
  assert.deepEqual(denoUses, [], "modules that use Deno.*");
  const specifiers = local.flatMap((m) => (m.dependencies ?? []).map((d) => d.specifier));
  assert.deepEqual(specifiers.filter((s) => s.startsWith("node:")), [], "node: imports");
  // npm packages only through entries that also run in browsers
  const npm = info.modules.map((m) => m.specifier).filter((s) => s.startsWith("npm:"));
  assert.deepEqual(
    npm.filter((s) => !/^npm:\/(msgpackr@[\d.]+\/pack|apache-arrow@[\d.]+\/.*)$/.test(s)),
    [],
    "npm entries",
  );
});
