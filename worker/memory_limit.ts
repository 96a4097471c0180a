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
  if (typeof limit === "number") {
    if (!(limit >= 0) || !Number.isFinite(limit)) {
      throw new TypeError(`memoryLimit must be a non-negative number of bytes, got ${limit}`);
    }
    return Math.floor(limit);
  }
  const s = limit.trim().toLowerCase();
  if (s === "auto") return Math.floor(systemMemory() / Math.max(1, share));
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(s);
  if (!m || !(m[2] in UNITS)) {
    throw new TypeError(
      `memoryLimit ${JSON.stringify(limit)} is not a size: use bytes, "2GiB", "500MB" or "auto"`,
    );
  }
  return Math.floor(Number(m[1]) * UNITS[m[2]]);
}
