/**
 * Helpers for the deploy/ tests: reading the Kubernetes manifests, rendering the Helm chart
 * (Go's own text/template, compiled to WebAssembly: the templates use its builtins only, no
 * Sprig, so no helm binary is needed), validating objects against the Kubernetes schemas
 * (kubernetes-models, at run time) and their types (kubernetes-types, where TypeScript's
 * excess-property check catches a misspelled field that the schemas let through), and the
 * flags the CLIs answer in --help.
 */
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Service } from "kubernetes-models/v1/Service";
import { Secret } from "kubernetes-models/v1/Secret";
import { parse as renderGoTemplate } from "@evertdespiegeleer/go-template";

/** The repository's root. */
export const ROOT = new URL("../../", import.meta.url);

/** A Kubernetes object as parsed from YAML. */
// deno-lint-ignore no-explicit-any
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [k: string]: any;
};

/** The objects of a multi-document YAML text (empty documents dropped). */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors.map((e) => e.message)}`);
    return doc.toJS();
  }).filter((o) => o !== null && o !== undefined);
}

/** The objects of a file under the repository's root. */
export function readObjects(path: string): K8sObject[] {
  return parseObjects(Deno.readTextFileSync(new URL(path, ROOT)));
}

/** Reads a YAML file under the repository's root. */
export function readYaml(path: string): any {
  return parseYaml(Deno.readTextFileSync(new URL(path, ROOT)));
}

/** Throws with the schema's complaint when `obj` is not a valid object of its kind. */
export function validateSchema(obj: K8sObject): void {
  const models: Record<string, new (o: any) => { validate(): void }> = {
    "apps/v1 Deployment": Deployment,
    "v1 Service": Service,
    "v1 Secret": Secret,
  };
  const Model = models[`${obj.apiVersion} ${obj.kind}`];
  if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  try {
    new Model(obj).validate();
  } catch (e) {
    throw new Error(`${obj.kind} ${obj.metadata?.name}: ${(e as Error).message}`);
  }
}

const TYPES: Record<string, [string, string]> = {
  "apps/v1 Deployment": ["Deployment", "kubernetes-types/apps/v1"],
  "v1 Service": ["Service", "kubernetes-types/core/v1"],
  "v1 Secret": ["Secret", "kubernetes-types/core/v1"],
};

/**
 * Type-checks the objects as literals of their kubernetes-types type (`deno check`): an unknown
 * field fails it. Resolves with the checker's complaint, or null when they all pass.
 */
export async function typeCheck(objects: K8sObject[]): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "dtask-deploy-check-" });
  try {
    const lines = objects.map((o, i) => {
      const t = TYPES[`${o.apiVersion} ${o.kind}`];
      if (!t) throw new Error(`no type for ${o.apiVersion} ${o.kind}`);
      return `import type { ${t[0]} as T${i} } from "${t[1]}";\n` +
        `export const o${i}: T${i} = ${JSON.stringify(o)};`;
    });
    const file = `${dir}/objects.ts`;
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "-q", "--config", new URL("deno.json", ROOT).pathname, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.success) return null;
    return new TextDecoder().decode(out.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Merges `over` into `base` (plain objects merge, everything else replaces), as helm --set. */
export function mergeValues(base: any, over: any): any {
  if (typeof base !== "object" || base === null || Array.isArray(base)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    out[k] = typeof v === "object" && v !== null && !Array.isArray(v) ? mergeValues(base[k], v) : v;
  }
  return out;
}

/** What the chart renders: each template's text by file name, and all its objects. */
export interface Rendered {
  files: Record<string, string>;
  objects: K8sObject[];
}

/** Renders deploy/helm/dtask as `helm template RELEASE` would, with `values` over values.yaml. */
export async function renderChart(release: string, values: any = {}): Promise<Rendered> {
  const chartDir = "deploy/helm/dtask/";
  const chart = readYaml(`${chartDir}Chart.yaml`);
  const data = {
    Values: mergeValues(readYaml(`${chartDir}values.yaml`), values),
    Release: { Name: release, Namespace: "default", Service: "Helm" },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const templates = new URL(`${chartDir}templates/`, ROOT);
  const helpers = Deno.readTextFileSync(new URL("_helpers.tpl", templates));
  const files: Record<string, string> = {};
  const objects: K8sObject[] = [];
  const names = [...Deno.readDirSync(templates)].map((e) => e.name).sort();
  for (const name of names) {
    if (name.startsWith("_")) continue;
    const text = await renderGoTemplate(
      helpers + Deno.readTextFileSync(new URL(name, templates)),
      data,
    );
    files[name] = text;
    if (name.endsWith(".yaml")) objects.push(...parseObjects(text));
  }
  return { files, objects };
}

const helpCache = new Map<string, Set<string>>();

/** The `--flags` a CLI lists in its --help (`entry`: scheduler/main.ts or worker/main.ts). */
export async function cliFlags(entry: string): Promise<Set<string>> {
  const known = helpCache.get(entry);
  if (known) return known;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(entry, ROOT).pathname, "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${entry} --help failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const flags = new Set(new TextDecoder().decode(out.stdout).match(/--[a-z][a-z-]*/g) ?? []);
  helpCache.set(entry, flags);
  return flags;
}

/** The flags in `args` (a container's args: entry point first) that its CLI does not know. */
export async function unknownFlags(args: string[]): Promise<string[]> {
  const flags = await cliFlags(args[0]);
  return args.filter((a) => a.startsWith("--") && !flags.has(a.split("=")[0]));
}

/** The value following `flag` in `args`. */
export function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Bytes of a Kubernetes quantity (4Gi, 512Mi, 1G) or a dtask size (4GiB, 2GB). */
export function bytesOf(q: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?$/.exec(q);
  if (!m) throw new Error(`not a size: ${q}`);
  const power = " KMGT".indexOf(m[2] || " ");
  return Number(m[1]) * (m[3] ? 1024 : 1000) ** power;
}
