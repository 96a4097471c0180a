/**
 * The system page: the scheduler process's CPU use, memory and event-loop lag over the last
 * minutes, as inline SVG sparklines and a table of the latest samples (no script).
 */
import type { SystemSample } from "../system_samples.ts";
import { esc, layout, table } from "./layout.ts";
import { formatBytes } from "../../core/format_bytes.ts";

const WIDTH = 600, HEIGHT = 80;

/** An SVG polyline of `values` scaled to the box (the maximum at the top). */
export function sparkline(values: readonly number[], label: string): string {
  const max = Math.max(1e-9, ...values);
  const step = values.length > 1 ? WIDTH / (values.length - 1) : 0;
  const points = values.map((v, i) =>
    `${(i * step).toFixed(1)},${(HEIGHT - (v / max) * (HEIGHT - 4) - 2).toFixed(1)}`
  ).join(" ");
  return `<svg width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${esc(label)}" ` +
    `style="border:1px solid #ddd;background:#fafafa"><polyline fill="none" stroke="#2b7bb9" ` +
    `stroke-width="1.5" points="${points}"/></svg>`;
}

/** Renders the system page from the samples, oldest first. */
export function systemPage(prefix: string, samples: readonly SystemSample[]): string {
  if (samples.length === 0) {
    return layout(prefix, "System", "/system", "<p>No sample yet: one is taken every second.</p>");
  }
  const last = samples[samples.length - 1];
  const chart = (title: string, now: string, values: number[]) =>
    `<h2>${esc(title)}: ${esc(now)}</h2>${sparkline(values, title)}`;
  const recent = samples.slice(-10).toReversed().map((s) => [
    esc(new Date(s.time).toISOString()),
    `${esc(s.cpu.toFixed(1))} %`,
    formatBytes(s.rss),
    `${esc(s.lag.toFixed(1))} ms`,
  ]);
  const body = `<p>The scheduler process, sampled every second (${samples.length} samples).</p>` +
    chart("CPU", `${last.cpu.toFixed(1)} %`, samples.map((s) => s.cpu)) +
    chart("Memory (RSS)", formatBytes(last.rss), samples.map((s) => s.rss)) +
    chart("Event-loop lag", `${last.lag.toFixed(1)} ms`, samples.map((s) => s.lag)) +
    `<h2>Latest samples</h2>` + table(["time", "CPU", "RSS", "lag"], recent);
  return layout(prefix, "System", "/system", body);
}
