/**
 * Task keys: a fast non-cryptographic hash (MurmurHash3 x86_128, 128 bits) and Dask-style keys
 * `${prefix}-${hash}`, where the prefix is the function's name ("lambda" when anonymous).
 * Browser-safe: no `Deno.*`, no `node:` imports.
 * @module
 */

const C1 = 0x239b961b, C2 = 0xab0e9789, C3 = 0x38b34ae5, C4 = 0xa1e38b93;
const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const fmix = (h: number) => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const hex8 = (h: number) =>
  HEX[h >>> 24] + HEX[(h >>> 16) & 255] + HEX[(h >>> 8) & 255] + HEX[h & 255];

const prefixes = new Map<string, string>();
/** The prefix `keyPrefix` found last: a map's keys share it, and a hit allocates nothing. */
let lastPrefix = "";

/**
 * Whether `key[from..]` is 32 lowercase hex digits, at least one a decimal digit, and the end of
 * the key (a hash of letters only is a word to Dask's key_split, which the slow path handles).
 */
function hex32At(key: string, from: number): boolean {
  if (key.length - from !== 32) return false;
  let digit = false;
  for (let i = from; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 48 && c <= 57) digit = true;
    else if (c < 97 || c > 102) return false;
  }
  return digit;
}

/** The length of the `name` in a key of the form `name-<32 hex>` made here, or -1. */
function fastPrefixLength(key: string): number {
  const n = key.length - 33;
  // a 32-character name could itself be a hash (key_split says "data"): the slow path decides
  if (n < 1 || n === 32 || key.charCodeAt(n) !== 45 || !hex32At(key, n + 1)) return -1;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i) | 32; // ASCII letters folded to lower case
    if (!((c >= 97 && c <= 122) || (i > 0 && key.charCodeAt(i) === 95))) return -1;
  }
  return n;
}

/** Streaming MurmurHash3 x86_128: `update()` with bytes, then `digest()` as 32 hex chars. */
export class Hasher {
  #h1 = 0;
  #h2 = 0;
  #h3 = 0;
  #h4 = 0;
  #tail = new Uint8Array(16);
  #tailLen = 0;
  #total = 0;

  /** Starts a hash with a 32-bit seed. */
  constructor(seed = 0) {
    this.reset(seed);
  }

  /** Starts over, as if newly made with `seed`. */
  reset(seed = 0): this {
    const h = seed | 0;
    this.#h1 = h;
    this.#h2 = h;
    this.#h3 = h;
    this.#h4 = h;
    this.#tailLen = 0;
    this.#total = 0;
    return this;
  }

  /** Feeds bytes (any chunking gives the same digest). */
  update(b: Uint8Array): this {
    const n = b.length, t = this.#tail;
    this.#total += n;
    let i = 0, r = this.#tailLen;
    if (r > 0) {
      while (r < 16 && i < n) t[r++] = b[i++];
      if (r < 16) {
        this.#tailLen = r;
        return this;
      }
      this.#blocks(t, 0, 16);
    }
    const end = i + ((n - i) & ~15);
    if (end > i) this.#blocks(b, i, end);
    for (r = 0, i = end; i < n;) t[r++] = b[i++];
    this.#tailLen = r;
    return this;
  }

  #blocks(b: Uint8Array, i: number, end: number): void {
    let h1 = this.#h1, h2 = this.#h2, h3 = this.#h3, h4 = this.#h4;
    for (; i < end; i += 16) {
      let k1 = b[i] | b[i + 1] << 8 | b[i + 2] << 16 | b[i + 3] << 24;
      let k2 = b[i + 4] | b[i + 5] << 8 | b[i + 6] << 16 | b[i + 7] << 24;
      let k3 = b[i + 8] | b[i + 9] << 8 | b[i + 10] << 16 | b[i + 11] << 24;
      let k4 = b[i + 12] | b[i + 13] << 8 | b[i + 14] << 16 | b[i + 15] << 24;
      k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
      h1 = Math.imul(rotl(h1 ^ k1, 19) + h2, 5) + 0x561ccd1b | 0;
      k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
      h2 = Math.imul(rotl(h2 ^ k2, 17) + h3, 5) + 0x0bcaa747 | 0;
      k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
      h3 = Math.imul(rotl(h3 ^ k3, 15) + h4, 5) + 0x96cd1c35 | 0;
      k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
      h4 = Math.imul(rotl(h4 ^ k4, 13) + h1, 5) + 0x32ac3b17 | 0;
    }
    this.#h1 = h1;
    this.#h2 = h2;
    this.#h3 = h3;
    this.#h4 = h4;
  }

  /** The 128-bit hash as 32 hex chars (h1..h4); the Hasher must not be updated after. */
  digest(): string {
    let h1 = this.#h1, h2 = this.#h2, h3 = this.#h3, h4 = this.#h4;
    const t = this.#tail, r = this.#tailLen;
    let k1 = 0, k2 = 0, k3 = 0, k4 = 0;
    for (let j = Math.min(r, 16) - 1; j >= 12; j--) k4 = k4 << 8 | t[j];
    for (let j = Math.min(r, 12) - 1; j >= 8; j--) k3 = k3 << 8 | t[j];
    for (let j = Math.min(r, 8) - 1; j >= 4; j--) k2 = k2 << 8 | t[j];
    for (let j = Math.min(r, 4) - 1; j >= 0; j--) k1 = k1 << 8 | t[j];
    if (r > 12) h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    if (r > 8) h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    if (r > 4) h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    if (r > 0) h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    const len = this.#total >>> 0;
    h1 ^= len, h2 ^= len, h3 ^= len, h4 ^= len;
    h1 = h1 + h2 + h3 + h4 | 0;
    h2 = h2 + h1 | 0, h3 = h3 + h1 | 0, h4 = h4 + h1 | 0;
    h1 = fmix(h1), h2 = fmix(h2), h3 = fmix(h3), h4 = fmix(h4);
    h1 = h1 + h2 + h3 + h4 | 0;
    h2 = h2 + h1 | 0, h3 = h3 + h1 | 0, h4 = h4 + h1 | 0;
    return hex8(h1) + hex8(h2) + hex8(h3) + hex8(h4);
  }
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);
const prefix = new Uint8Array(5); // per part: 1 (string) or 2 (bytes), then its u32 length
const prefixView = new DataView(prefix.buffer);
const shared = new Hasher();

/** Hashes parts (bytes or strings, framed by type and length so parts cannot run together). */
export function hashBytes(...parts: (Uint8Array | string)[]): string {
  const h = shared.reset();
  for (const part of parts) {
    let bytes: Uint8Array;
    if (typeof part === "string") {
      if (scratch.length < part.length * 3) scratch = new Uint8Array(part.length * 3);
      bytes = scratch.subarray(0, encoder.encodeInto(part, scratch).written);
      prefix[0] = 1;
    } else {
      bytes = part;
      prefix[0] = 2;
    }
    prefixView.setUint32(1, bytes.length, true);
    h.update(prefix).update(bytes);
  }
  return h.digest();
}

/** The hash of a function's source text. */
export function functionHash(source: string): string {
  return hashBytes("dtask.fn", source);
}

/** The prefix a function gives its keys: its name, or "lambda" when anonymous. */
export function fnPrefix(fnName: string): string {
  const name = fnName.replace(/^bound /, "").trim();
  return name === "" || name === "anonymous" ? "lambda" : name;
}

/** The key of a pure task: the same function and arguments always give the same key. */
export function pureKey(
  fnName: string,
  fnHash: string,
  argsPayload: { readonly header: Uint8Array; readonly frames: readonly Uint8Array[] },
): string {
  const hash = hashBytes("dtask.pure", fnHash, argsPayload.header, ...argsPayload.frames);
  return `${fnPrefix(fnName)}-${hash}`;
}

/** A fresh key for an impure task: `${prefix}-` and 32 random hex chars. */
export function randomKey(fnName: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const b of bytes) hex += (b < 16 ? "0" : "") + b.toString(16);
  return `${fnPrefix(fnName)}-${hex}`;
}

const HEX8 = /^[0-9a-f]{8}$/;
const ALPHA = /^[A-Za-z]+$/;
const HEX32 = /^[0-9a-f]{32}$/;

/** Dask's key_split: "inc-8a9b..." gives "inc", "load-data-1" gives "load-data". */
export function keyPrefix(key: string): string {
  // The common case, a key made here: `name-<hash>`. Interned: many keys share a prefix.
  const n = fastPrefixLength(key);
  if (n > 0) {
    if (n === lastPrefix.length && key.startsWith(lastPrefix)) return lastPrefix;
    const p = key.slice(0, n);
    let interned = prefixes.get(p);
    if (interned === undefined) {
      if (prefixes.size > 4096) prefixes.clear();
      prefixes.set(p, interned = p);
    }
    return lastPrefix = interned;
  }
  const words = key.split("-");
  let result = /^[A-Za-z]/.test(words[0])
    ? words[0]
    : words[0].split(",")[0].replace(/^[_'()"]+|[_'()"]+$/g, "");
  for (let i = 1; i < words.length; i++) {
    if (!ALPHA.test(words[i]) || HEX8.test(words[i])) break;
    result += "-" + words[i];
  }
  if (HEX32.test(result)) return "data";
  if (result.startsWith("<")) {
    result = result.replace(/^<+|>+$/g, "").split(/\s+/)[0].split(".").at(-1)!;
  }
  return result || "Other";
}
