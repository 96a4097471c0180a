/** Memory sizes: parsing "2GiB"-style strings and the "auto" limit. */

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
};

/** Parses bytes: a number, "2GiB", "500 MB", "auto" (system memory / `share`), or 0/null = none. */
export function parseMemoryLimit(
  limit: number | string | null | undefined,
  share = 1,
  systemMemory: () => number = () => Deno.systemMemoryInfo().total,
): number {
  if (limit === undefined || limit === null || limit === 0) return 0;
  if (typeof limit === "string" && limit.trim().toLowerCase() === "auto") {
    return Math.floor(systemMemory() / Math.max(1, share));
  }
  return parseSize(limit, "memoryLimit", `use bytes, "2GiB", "500MB" or "auto"`);
}

/**
 * Parses a size in bytes: a non-negative number, or a string such as "10GiB" or "500 MB"
 * (decimal and binary units). A TypeError names `option` and ends with `allowed`.
 */
export function parseSize(value: number | string, option: string, allowed: string): number {
  if (typeof value === "number") {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new TypeError(`${option} must be a non-negative number of bytes, got ${value}`);
    }
    return Math.floor(value);
  }
  const m = typeof value === "string"
    ? /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(value.trim().toLowerCase())
    : null;
  if (!m || !(m[2] in UNITS)) {
    throw new TypeError(`${option} ${JSON.stringify(value)} is not a size: ${allowed}`);
  }
  return Math.floor(Number(m[1]) * UNITS[m[2]]);
}
