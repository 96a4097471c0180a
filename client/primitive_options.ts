/**
 * Checks of what the coordination primitives (Lock, MultiLock, Semaphore, Queue, Variable,
 * Event) are given: their name, their options, a timeout, a batch size. Each failure is a
 * TypeError that names the call and the option and says what is expected. Not public API.
 * Browser-safe.
 *
 * @module
 */

/** The name given, or a unique one (`prefix-<hex uuid>`) when left out (undefined or null). */
export function nameOption(what: string, name: unknown, prefix: string): string {
  // Dask's names: `lock-<uuid4 hex>`
  if (name === undefined || name === null) {
    return `${prefix}-${crypto.randomUUID().replaceAll("-", "")}`;
  }
  if (typeof name === "string") return name;
  const hint = typeof name === "object" && name !== null
    ? `: options come second, e.g. new ${what}(undefined, { client })`
    : "";
  throw new TypeError(
    `${what}: the name must be a string (or left out for a unique one), got ${kind(name)}${hint}`,
  );
}

/** Checks that `options` is an object (or absent) with only the options named in `allowed`. */
export function checkOptions(
  what: string,
  options: unknown,
  allowed: readonly string[],
): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${what}: the options must be an object, got ${kind(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k)) {
      const known = allowed.length ? allowed.join(", ") : "none";
      throw new TypeError(`${what}: unknown option ${JSON.stringify(k)} (its options: ${known})`);
    }
  }
  return options as Record<string, unknown>;
}

/**
 * A timeout in milliseconds: undefined (or Infinity) waits for ever, 0 tries once; anything but
 * a number >= 0 is a TypeError naming the option.
 */
export function timeoutOption(what: string, timeout: unknown): number | undefined {
  if (timeout === undefined || timeout === Infinity) return undefined;
  if (typeof timeout === "number" && timeout >= 0) return timeout;
  throw new TypeError(
    `${what}: the timeout option must be a number of milliseconds >= 0 (0: try once; leave ` +
      `it out to wait for ever), got ${kind(timeout)}`,
  );
}

/** A queue's maxsize: a whole number >= 0 (0, the default: unbounded). */
export function maxsizeOption(maxsize: unknown): number {
  if (maxsize === undefined) return 0;
  if (Number.isSafeInteger(maxsize) && (maxsize as number) >= 0) return maxsize as number;
  throw new TypeError(
    `Queue: the maxsize option must be a whole number >= 0 (0 or left out: unbounded), ` +
      `got ${kind(maxsize)}`,
  );
}

/** A get's batch: false or absent (one value), true (every value there now), or a count >= 1. */
export function batchOption(batch: unknown): true | number | undefined {
  if (batch === undefined || batch === false) return undefined;
  if (batch === true) return true;
  if (Number.isSafeInteger(batch) && (batch as number) >= 1) return batch as number;
  throw new TypeError(
    `Queue.get: the batch option must be a boolean or a whole number >= 1 (how many values ` +
      `to take), got ${kind(batch)}`,
  );
}

/** How a wrong value is named in a message: its type, with the value when short. */
export function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
      return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof v} ${String(v)}`;
    case "object": {
      const name = (v as object).constructor?.name;
      return name && name !== "Object" ? `a ${name}` : "an object";
    }
    default:
      return typeof v;
  }
}
