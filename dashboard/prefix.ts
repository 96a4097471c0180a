/**
 * The dashboard's path prefix (`dashboardPrefix`, `--dashboard-prefix`), e.g. "/dask" to serve
 * `/dask/status` behind a proxy that routes `/dask` to the scheduler.
 *
 * @module
 */

/**
 * `prefix` normalised: a leading slash, no trailing one ("" for none: undefined, "" or "/").
 * Throws a TypeError for one that is not a plain path (with "..", "?", "#", "%", a backslash or
 * white space).
 */
export function normalizeDashboardPrefix(prefix: string | undefined): string {
  if (prefix === undefined) return "";
  if (typeof prefix !== "string" || /\.\.|[?#%\\\s]/.test(prefix)) {
    throw new TypeError(
      `dashboardPrefix must be a plain URL path such as "/dask" (letters, digits and "-", "_", ` +
        `".", "/"; no "..", "?", "#", "%", backslash or spaces), got ${JSON.stringify(prefix)}`,
    );
  }
  const p = prefix.replace(/\/+$/, "").replace(/^\/*/, "/");
  return p === "/" ? "" : p.replace(/\/{2,}/g, "/");
}
