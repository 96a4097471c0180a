/** fifoTimeout of `client.with(...)` (Dask's fifo_timeout): parsing and its default. */
import { DEFAULT_FIFO_TIMEOUT } from "../comm/protocol.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A fifoTimeout in milliseconds: a number of ms, or a string like "100ms", "60s", "1m" (Dask's
 * spelling); undefined gives Dask's default for submit and map (100 ms).
 */
export function fifoTimeoutMs(v: number | string | undefined): number {
  if (v === undefined) return DEFAULT_FIFO_TIMEOUT;
  if (typeof v === "number") {
    if (v >= 0) return v; // Infinity too: every later submission stays in one generation
  } else if (typeof v === "string") {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/.exec(v);
    if (m) return Number(m[1]) * UNITS[m[2] ?? "ms"];
  }
  throw new TypeError(
    `fifoTimeout must be a number of milliseconds >= 0 or a duration like "100ms" or "60s", ` +
      `got ${typeof v === "string" ? JSON.stringify(v) : String(v)}`,
  );
}
