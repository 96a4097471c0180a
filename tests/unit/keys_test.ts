import assert from "node:assert/strict";
import {
  fnPrefix,
  functionHash,
  hashBytes,
  Hasher,
  keyPrefix,
  pureKey,
  randomKey,
} from "../../core/keys.ts";
import { encodeValue, FRAME_THRESHOLD } from "../../comm/serialize.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("Hasher is MurmurHash3 x86_128 (reference vectors)", () => {
  // From github.com/PeterScott/murmur3 test.c (h1..h4 printed as %08x).
  const vectors: [number, string, string][] = [
    [123, "Hello, world!", "61c9129e5a1aacd7a41621629e37c886"],
    [321, "Hello, world!", "d5fbdcb3c26c4193045880c5a7170f0f"],
    [123, "xxxxxxxxxxxxxxxxxxxxxxxxxxxx", "5e40bab278825a164cf929d31fec6047"],
    [123, "", "fedc524526f3e79926f3e79926f3e799"],
  ];
  for (const [seed, input, hex] of vectors) {
    assert.equal(new Hasher(seed).update(utf8(input)).digest(), hex);
  }
});

Deno.test("Hasher gives the same digest however the input is chunked", () => {
  const data = utf8("The quick brown fox jumps over the lazy dog, and then some more bytes!");
  const whole = new Hasher(7).update(data).digest();
  for (let chunk = 1; chunk <= 33; chunk++) {
    const h = new Hasher(7);
    for (let i = 0; i < data.length; i += chunk) h.update(data.subarray(i, i + chunk));
    assert.equal(h.digest(), whole, `chunk ${chunk}`);
  }
  assert.equal(new Hasher(7).update(data).reset(7).update(data).digest(), whole);
});

Deno.test("hashBytes: 128 bits of hex, parts cannot run together", () => {
  const h = hashBytes("abc");
  assert.match(h, /^[0-9a-f]{32}$/);
  assert.equal(hashBytes("abc"), h);
  assert.notEqual(hashBytes("ab", "c"), hashBytes("a", "bc"));
  assert.notEqual(hashBytes("abc"), hashBytes(utf8("abc")), "strings and bytes are tagged");
  assert.notEqual(hashBytes("a", ""), hashBytes("a"));
  assert.notEqual(hashBytes(new Uint8Array(0)), hashBytes(""));
  assert.equal(hashBytes("é😀", new Uint8Array([1, 2])), hashBytes("é😀", new Uint8Array([1, 2])));
  const long = "é".repeat(100_000); // longer than the string scratch buffer
  assert.equal(hashBytes(long), hashBytes(long));
  assert.notEqual(hashBytes(long), hashBytes(long.slice(1) + "e"));
  // A small change anywhere changes the hash (no obvious collisions on near inputs).
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) seen.add(hashBytes(String(i)));
  assert.equal(seen.size, 10_000);
});

Deno.test("functionHash is stable and depends on the source", () => {
  assert.equal(functionHash("(x) => x + 1"), functionHash("(x) => x + 1"));
  assert.notEqual(functionHash("(x) => x + 1"), functionHash("(x) => x + 2"));
  assert.match(functionHash(""), /^[0-9a-f]{32}$/);
});

Deno.test("pureKey: prefix from the name, same inputs same key, different inputs differ", () => {
  const fh = functionHash("function inc(x) { return x + 1; }");
  const key = pureKey("inc", fh, encodeValue([1]));
  assert.match(key, /^inc-[0-9a-f]{32}$/);
  assert.equal(pureKey("inc", fh, encodeValue([1])), key);
  assert.notEqual(pureKey("inc", fh, encodeValue([2])), key);
  assert.notEqual(pureKey("inc", functionHash("other"), encodeValue([1])), key);
  assert.notEqual(pureKey("inc", fh, encodeValue([1n])), key);
  assert.match(pureKey("", fh, encodeValue([])), /^lambda-[0-9a-f]{32}$/);
  assert.equal(keyPrefix(key), "inc");
});

Deno.test("pureKey: Map, {}, [], '' and other look-alikes never collide", () => {
  const fh = functionHash("f");
  const args = [new Map(), {}, [], "", new Set(), null, undefined, 0, -0, 0n, "0", false];
  args.push(new Uint8Array(0), new Date(0), [undefined], [null], { a: undefined }, { a: null });
  const keys = new Set(args.map((a) => pureKey("f", fh, encodeValue([a]))));
  assert.equal(keys.size, args.length);
});

Deno.test("pureKey hashes frames: large buffers differing in one byte differ", () => {
  const fh = functionHash("f");
  const a = new Uint8Array(FRAME_THRESHOLD * 2);
  const b = a.slice();
  b[b.length - 1] = 1;
  const pa = encodeValue([a]), pb = encodeValue([b]);
  assert.equal(pa.frames.length, 1);
  assert.deepEqual(pa.header, pb.header, "the header alone is identical");
  assert.notEqual(pureKey("f", fh, pa), pureKey("f", fh, pb));
  assert.equal(pureKey("f", fh, pa), pureKey("f", fh, encodeValue([a.slice()])));
});

Deno.test("randomKey: prefix and 32 random hex chars", () => {
  const keys = new Set<string>();
  for (let i = 0; i < 1000; i++) keys.add(randomKey("load"));
  assert.equal(keys.size, 1000);
  for (const k of keys) assert.match(k, /^load-[0-9a-f]{32}$/);
  assert.match(randomKey(""), /^lambda-[0-9a-f]{32}$/);
  assert.equal(keyPrefix(randomKey("load")), "load");
});

Deno.test("fnPrefix: anonymous functions are 'lambda'", () => {
  assert.equal(fnPrefix("inc"), "inc");
  assert.equal(fnPrefix(""), "lambda");
  assert.equal(fnPrefix("anonymous"), "lambda");
  assert.equal(fnPrefix("bound inc"), "inc");
});

Deno.test("keyPrefix follows Dask's key_split", () => {
  const cases: [string, string][] = [
    ["x", "x"],
    ["x-1", "x"],
    ["x-1-2-3", "x"],
    ["('x-2', 1)", "x"],
    ["('x', 1)", "x"],
    ["hello-world-1", "hello-world"],
    ["ae05086432ca935f6eba409a8ecd4896", "data"],
    ["<module.submodule.myclass object at 0xdaf372", "myclass"],
    ["x-abcdefab", "x"],
    ["_(x)", "x"],
    ["inc-8a9b0c1d2e3f40516273849a5b6c7d8e", "inc"],
    ["load-data-0123456789abcdef0123456789abcdef", "load-data"],
    ["step2-ffffffff", "step2"],
    // a 32-letter "hash" is a word to key_split, kept in the prefix
    ["inc-abcdefabcdefabcdefabcdefabcdefab", "inc-abcdefabcdefabcdefabcdefabcdefab"],
    ["abcdefabcdefabcdefabcdefabcdefab-0123456789abcdef0123456789abcdef", "data"],
  ];
  for (const [key, prefix] of cases) assert.equal(keyPrefix(key), prefix, key);
});

const H = "0123456789abcdef0123456789abcdef"; // 32 lowercase hex digits, letters and digits

Deno.test("keyPrefix fast path: name-<32 lowercase hex>", () => {
  assert.equal(keyPrefix(`load_data-${H}`), "load_data");
  assert.equal(keyPrefix(`Inc-${H}`), "Inc");
  assert.equal(keyPrefix(`inc-${H}`), "inc");
  assert.equal(keyPrefix(`a-${H}`), "a");
  assert.equal(keyPrefix(`a_-${H}`), "a_");
  assert.equal(keyPrefix(`load-data-${H}`), "load-data");
});

Deno.test("keyPrefix: near misses of the fast path follow Dask's key_split", () => {
  const upper = H.toUpperCase();
  const cases: [string, string][] = [
    // uppercase hex: a word with digits ends the prefix
    [`inc-${upper}`, "inc"],
    // ...an uppercase word of letters only (not 8 hex digits) is part of it
    [`inc-${"ABCDEF".repeat(5)}AB`, `inc-${"ABCDEF".repeat(5)}AB`],
    // 31 or 33 hex digits: the word has digits, so it ends the prefix
    [`inc-${H.slice(1)}`, "inc"],
    [`inc-${H}0`, "inc"],
    [`load_data-${H.slice(1)}`, "load_data"],
    // a leading underscore is stripped (the first word does not start with a letter)
    [`_inc-${H}`, "inc"],
    [`__init__-${H}`, "init"],
    [`_-${H}`, "Other"],
    // a digit in the name, or no name at all
    [`x1-${H}`, "x1"],
    [`-${H}`, "Other"],
    [`(inc-${H}`, "inc"],
    [`inc.x-${H}`, "inc.x"],
  ];
  for (const [key, prefix] of cases) assert.equal(keyPrefix(key), prefix, key);
});

Deno.test("keyPrefix: the one-entry cache never answers for another prefix", () => {
  const other = "fedcba9876543210fedcba9876543210";
  const seq: [string, string][] = [
    [`inc-${H}`, "inc"],
    [`load_data-${other}`, "load_data"],
    [`inc-${other}`, "inc"],
    [`load_data-${H}`, "load_data"],
    [`incr-${H}`, "incr"], // starts with the last prefix, longer
    [`inc-${H}`, "inc"],
    [`in-${H}`, "in"], // a prefix of the last one
    [`Inc-${H}`, "Inc"], // same letters, other case
    [`inc-${H}`, "inc"],
    [`cni-${H}`, "cni"], // same length
    [`inc-1`, "inc"], // the slow path in between
    [`inc-${H}`, "inc"],
    [`x-1`, "x"],
    [`inc-${H}`, "inc"],
  ];
  for (let round = 0; round < 3; round++) {
    for (const [key, prefix] of seq) assert.equal(keyPrefix(key), prefix, `${round}: ${key}`);
  }
});

Deno.test("keys, serialize and errors use no Deno.* and no node: imports", async () => {
  for (const file of ["core/keys.ts", "comm/serialize.ts", "core/errors.ts"]) {
    const text = await Deno.readTextFile(new URL(`../../${file}`, import.meta.url));
    const src = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, ""); // code only
    assert.doesNotMatch(src, /\bDeno\./, file);
    assert.doesNotMatch(src, /from\s+["']node:|import\(\s*["']node:/, file);
    assert.doesNotMatch(src, /from\s+["']msgpackr["']/, `${file} uses msgpackr's main entry`);
  }
});
