/**
 * Durations on the command line as Dask writes them: "60s", "500ms", "2m", "1h", "1d"; a plain
 * number is seconds.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses a duration into milliseconds; throws a TypeError naming `flag` when it is not one. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNIT_MS[(m?.[2] || "s").toLowerCase()];
  if (!m || unit === undefined) {
    throw new TypeError(
      `${flag} takes a duration such as 60s, 500ms, 2m or 1h (a plain number is seconds), ` +
        `got ${JSON.stringify(text)}`,
    );
  }
  return Number(m[1]) * unit;
}
