/**
 * Bytes as people read them, one way everywhere (warnings, errors, reports, notebook display).
 *
 * @module
 */

/** Bytes as a short binary size: `0 B`, `512 B`, `1.50 KiB`, `2.00 GiB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(n || 0))} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)} ${units[i]}`;
}
