/**
 * Dynamic imports in a task function's source: a compiled function's `import("./x.ts")` would
 * resolve relative to dtask's compiling module, not to the file the function was written in.
 * `routeImports` renames each `import(` to a function bound at compile time that resolves
 * relative specifiers against the submitting file first (`resolveFrom`). Browser-safe.
 *
 * @module
 */

/**
 * The name `import` is renamed to in a task's source: six characters like `import`, so that
 * the columns of its stack frames stay right.
 */
export const IMPORT_BINDING = "$dtImp";

const IDENT_PART = /[\p{ID_Continue}$\u200c\u200d]/u;
const IDENT_START = /[\p{ID_Start}$_\\]/u;
/** Words after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/** What a scan found: where each `import(` keyword starts. */
interface Scan {
  at: number[];
  /** The last significant token: a word, or one punctuation character. */
  last: string;
}

/** Skips a comment at `i` if there is one; the index after it (else `i`). */
function skipComment(src: string, i: number): number {
  if (src.startsWith("//", i)) {
    while (i < src.length && src[i] !== "\n" && src[i] !== "\r") i++;
  } else if (src.startsWith("/*", i)) {
    const end = src.indexOf("*/", i + 2);
    i = end < 0 ? src.length : end + 2;
  }
  return i;
}

/** The index after the quoted string at `i`. */
function skipQuoted(src: string, i: number): number {
  const q = src[i++];
  while (i < src.length && src[i] !== q) i += src[i] === "\\" ? 2 : 1;
  return i + 1;
}

/** The index after the regular expression literal at `i`. */
function skipRegex(src: string, i: number): number {
  let inClass = false;
  for (i++; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") i++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) break;
    else if (c === "\n") return i; // not a regex after all
  }
  i++;
  while (i < src.length && IDENT_PART.test(src[i])) i++; // flags
  return i;
}

/** The next significant index from `i` (past whitespace and comments). */
function skipTrivia(src: string, i: number): number {
  for (;;) {
    while (i < src.length && /\s/.test(src[i])) i++;
    const j = skipComment(src, i);
    if (j === i) return i;
    i = j;
  }
}

/** Scans code from `i` to the `}` closing a template substitution (or the end); its index. */
function scanCode(src: string, i: number, scan: Scan, inTemplate: boolean): number {
  let depth = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith("//", i) || src.startsWith("/*", i)) {
      i = skipComment(src, i);
    } else if (c === "'" || c === '"') {
      i = skipQuoted(src, i);
      scan.last = "str";
    } else if (c === "`") {
      i = scanTemplate(src, i, scan);
      scan.last = "str";
    } else if (c === "/") {
      const regex = scan.last === "" || BEFORE_REGEX.has(scan.last) ||
        (scan.last.length === 1 && !/[\w$)\]}]/.test(scan.last));
      if (regex) {
        i = skipRegex(src, i);
        scan.last = "regex";
      } else {
        i++;
        scan.last = "/";
      }
    } else if (IDENT_START.test(c) || /\d/.test(c)) {
      const start = i;
      while (i < src.length && IDENT_PART.test(src[i])) i++;
      if (i === start) i++; // a lone "\"
      const word = src.slice(start, i);
      const member = scan.last === "." || scan.last === "#"; // a.import(), this.#import()
      if (word === "import" && !member && src[skipTrivia(src, i)] === "(") scan.at.push(start);
      scan.last = member ? "prop" : word;
    } else if (src.startsWith("...", i)) {
      i += 3;
      scan.last = "...";
    } else {
      if (c === "{") depth++;
      else if (c === "}") {
        if (depth === 0 && inTemplate) return i + 1;
        depth--;
      }
      scan.last = c;
      i++;
    }
  }
  return i;
}

/** Scans the template literal at `i`, with the code of its substitutions; the index after it. */
function scanTemplate(src: string, i: number, scan: Scan): number {
  for (i++; i < src.length;) {
    const c = src[i];
    if (c === "\\") i += 2;
    else if (c === "`") return i + 1;
    else if (c === "$" && src[i + 1] === "{") {
      scan.last = "";
      i = scanCode(src, i + 2, scan, true);
    } else i++;
  }
  return i;
}

/**
 * The source with each dynamic `import(` renamed to IMPORT_BINDING, or null when it has none.
 * (A scan of the tokens: strings, templates, comments and regular expressions are skipped.)
 */
export function routeImports(source: string): string | null {
  if (!source.includes("import")) return null;
  const scan: Scan = { at: [], last: "" };
  scanCode(source, 0, scan, false);
  if (scan.at.length === 0) return null;
  let out = "";
  let from = 0;
  for (const at of scan.at) {
    out += source.slice(from, at) + IMPORT_BINDING;
    from = at + "import".length;
  }
  return out + source.slice(from);
}

/** `specifier` as a task imports it: relative ones resolved against `base`, others unchanged. */
export function resolveFrom(specifier: unknown, base: string): unknown {
  if (typeof specifier !== "string" || !/^\.{0,2}\//.test(specifier)) return specifier;
  return new URL(specifier, base).href;
}
