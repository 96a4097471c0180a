/**
 * Checking that a function can be shipped as source text (client side; browser-safe: no
 * `Deno.*`, no `node:`, no eval). Workers compile what passes (core/compile.ts).
 */

/** Anything callable or constructible that can be shipped (functions, and classes for actors). */
export type Shippable = ((...args: any[]) => unknown) | (abstract new (...args: any[]) => unknown);

/** What a function's source text is. */
export type FunctionKind = "function" | "arrow" | "class" | "method" | "native";

const IDENT_START = /[\p{ID_Start}$_\\]/u;
const IDENT_PART = /[\p{ID_Continue}$\\\u200c\u200d]/u;

/** Skips whitespace and comments from `i`; returns the index of the next token. */
function skipTrivia(src: string, i: number): number {
  for (;;) {
    while (i < src.length && /\s/.test(src[i])) i++;
    if (src.startsWith("//", i)) {
      while (i < src.length && src[i] !== "\n" && src[i] !== "\r") i++;
    } else if (src.startsWith("/*", i)) {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? src.length : end + 2;
    } else return i;
  }
}

/** Reads an identifier at `i`; returns the index after it (`i` when there is none). */
function skipIdent(src: string, i: number): number {
  if (i >= src.length || !IDENT_START.test(src[i])) return i;
  i++;
  while (i < src.length && IDENT_PART.test(src[i])) i++;
  return i;
}

/** Whether `word` stands at `i` as a whole word. */
function wordAt(src: string, i: number, word: string): boolean {
  return src.startsWith(word, i) && !IDENT_PART.test(src[i + word.length] ?? "");
}

/** Skips a string or template literal starting at `i` (its quote); returns the index after it. */
function skipString(src: string, i: number): number {
  const quote = src[i++];
  while (i < src.length) {
    const c = src[i];
    if (c === "\\") i += 2;
    else if (c === quote) return i + 1;
    else if (quote === "`" && c === "$" && src[i + 1] === "{") i = skipGroup(src, i + 1);
    else i++;
  }
  return i;
}

/** Skips a bracketed group starting at `i` (its opening bracket); -1 when it never closes. */
function skipGroup(src: string, i: number): number {
  const stack: string[] = [];
  while (i < src.length) {
    const c = src[i];
    if (c === "(" || c === "[" || c === "{") {
      stack.push(c === "(" ? ")" : c === "[" ? "]" : "}");
      i++;
    } else if (c === ")" || c === "]" || c === "}") {
      if (stack.pop() !== c) return -1;
      i++;
      if (stack.length === 0) return i;
    } else if (c === "'" || c === '"' || c === "`") {
      i = skipString(src, i);
    } else if (src.startsWith("//", i) || src.startsWith("/*", i)) {
      i = skipTrivia(src, i);
    } else i++;
  }
  return -1;
}

/** Whether `=>` follows the parameter list that opens at `i`. */
function arrowAfterParams(src: string, i: number): boolean {
  const end = skipGroup(src, i);
  return end >= 0 && src.startsWith("=>", skipTrivia(src, end));
}

/** Classifies a function's source text (as `Function.prototype.toString` gives it). */
export function functionKind(source: string): FunctionKind {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) return "native";
  let i = skipTrivia(source, 0);
  if (wordAt(source, i, "class")) return "class";
  if (wordAt(source, i, "function")) return "function";
  if (wordAt(source, i, "async")) {
    const j = skipTrivia(source, i + 5);
    if (source.startsWith("=>", j)) return "arrow"; // a parameter named async
    if (wordAt(source, j, "function")) return "function";
    if (source[j] === "(") return arrowAfterParams(source, j) ? "arrow" : "method";
    const k = skipIdent(source, j);
    if (k > j) return source.startsWith("=>", skipTrivia(source, k)) ? "arrow" : "method";
    return "method"; // async *gen() {}, async [computed]() {}
  }
  if (source[i] === "(") return "arrow";
  const k = skipIdent(source, i);
  if (k > i) {
    i = skipTrivia(source, k);
    return source.startsWith("=>", i) ? "arrow" : "method";
  }
  return "method"; // *gen() {}, [computed]() {}, "quoted"() {}
}

/** The first line of a source, shortened, for error messages. */
function sourceHead(source: string): string {
  const line = source.trimStart().split("\n", 1)[0];
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** How a function is named in messages. */
export function label(name: string): string {
  return name ? `"${name}"` : "(anonymous)";
}

/** The error for a method-shorthand source. */
export function methodError(name: string, source: string, verb = "send"): TypeError {
  return new TypeError(
    `cannot ${verb} function ${label(name)}: it is a method shorthand (${
      JSON.stringify(sourceHead(source))
    }), whose source text cannot be compiled on its own. Use an arrow function or a function ` +
      `expression instead, e.g. \`${name || "f"}: (x) => ...\` or ` +
      `\`${name || "f"}: function (x) { ... }\`.`,
  );
}

/**
 * Checks that a function can be shipped as source text and returns its name and source
 * (client side, browser-safe); throws a TypeError for bound, native and method-shorthand ones.
 */
export function checkFunctionSource(fn: Shippable): { name: string; source: string } {
  if (typeof fn !== "function") {
    throw new TypeError(`expected a function to run, got ${fn === null ? "null" : typeof fn}`);
  }
  const name = typeof fn.name === "string" ? fn.name : "";
  const source = Function.prototype.toString.call(fn);
  const kind = functionKind(source);
  if (kind === "native") {
    if (name.startsWith("bound ")) {
      throw new TypeError(
        `cannot send bound function ${label(name)}: its source text is not available. ` +
          `Pass the bound values as arguments instead of using .bind().`,
      );
    }
    throw new TypeError(
      `cannot send native function ${label(name)}: it has no source text ([native code]). ` +
        `Wrap it in an arrow function, e.g. \`(x) => Math.sqrt(x)\`.`,
    );
  }
  if (kind === "method") throw methodError(name, source);
  return { name, source };
}
