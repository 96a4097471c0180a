/** Small statistics for the benchmarks. */

/** One measured figure: its median and the samples it came from. */
export interface Sample {
  median: number;
  samples: number[];
}

/** Figures by metric name. */
export type Figures = Record<string, Sample>;

/** The median of the numbers (NaN for none). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
