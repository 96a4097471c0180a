/**
 * The Deno configuration file a worker process runs with: by default the one that governs this
 * program's main module, as Deno finds it (the first deno.json or deno.jsonc up from the main
 * module's folder), so that a task's bare specifiers and npm: names resolve on the workers as
 * they do in the program that submitted it. dtask's own modules import their npm packages by
 * full `npm:` specifier, so they load under any project's configuration.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const NAMES = ["deno.json", "deno.jsonc"];

let found: string | null | undefined;

/** The first deno.json or deno.jsonc in `dir` or a folder above it, or null. */
export function findConfig(dir: string): string | null {
  for (let d = resolve(dir);; d = dirname(d)) {
    for (const name of NAMES) {
      const path = join(d, name);
      try {
        if (Deno.statSync(path).isFile) return path;
      } catch { /* not there */ }
    }
    if (dirname(d) === d) return null;
  }
}

/** The configuration file that governs this program's main module (found once), or null. */
export function mainConfig(): string | null {
  if (found === undefined) {
    const main = new URL(Deno.mainModule);
    const dir = main.protocol === "file:" ? dirname(fileURLToPath(main)) : Deno.cwd();
    found = findConfig(dir);
  }
  return found;
}

/**
 * The `deno run` arguments that give a worker process its configuration: `config` (a path or
 * file URL) when given, else the main module's configuration; none when there is neither (Deno
 * then looks up from the worker's own entry module).
 */
export function configArgs(config?: string | URL): string[] {
  if (config !== undefined) {
    const path = config instanceof URL || config.startsWith("file:")
      ? fileURLToPath(config)
      : resolve(config);
    let file = false;
    try {
      file = Deno.statSync(path).isFile;
    } catch { /* reported below */ }
    if (!file) {
      throw new TypeError(
        `config: ${path} is not a file; give the path or file URL of a deno.json (or leave it ` +
          `out: workers then use the deno.json that governs the main module)`,
      );
    }
    return ["--config", path];
  }
  const main = mainConfig();
  return main === null ? [] : ["--config", main];
}
