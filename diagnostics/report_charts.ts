/**
 * The charts of a performance report as inline SVG, drawn here so the page needs no script
 * and nothing from the network: the task stream (a row per worker thread, a rectangle per task
 * coloured by prefix, black when it erred, transfers and spill writes and reads in their own
 * colours as on the dashboard; hover for the key) and the cluster's memory over
 * time (managed, unmanaged and spilled, stacked).
 * @module
 */
import { escapeHtml } from "../core/display_html.ts";
import { formatBytes } from "../core/format_bytes.ts";
import { formatMs, IO_COLOURS, prefixColor, type ReportData } from "./report_data.ts";

/** Rectangles drawn at most in the task stream (the page stays light; the table has all). */
export const MAX_DRAWN_TASKS = 20_000;
const WIDTH = 1000;
const LEFT = 150;
const ROW = 14;

interface Placed {
  key: string;
  prefix: string;
  worker: string;
  start: number;
  stop: number;
  ok: boolean;
  /** "compute", or the I/O's action. */
  action: string;
  nbytes: number;
  lane: number;
}

/** Tasks in rows: a worker gets as many rows as it ran tasks at once (its busy threads). */
function lanes(data: ReportData, prefixOf: (key: string) => string) {
  const tasks = data.tasks.slice(0, MAX_DRAWN_TASKS).map((t) => ({
    key: t.key,
    prefix: prefixOf(t.key),
    worker: t.worker,
    start: Math.min(...t.startstops.map((s) => s.start)),
    stop: Math.max(...t.startstops.map((s) => s.stop)),
    ok: t.status === "OK",
    action: t.action ?? "compute",
    nbytes: t.nbytes ?? 0,
    lane: 0,
  })).sort((a, b) => a.start - b.start);
  const workers = [...new Set(tasks.map((t) => t.worker))].sort();
  const rows: { worker: string; placed: Placed[] }[] = [];
  for (const w of workers) {
    const ends: number[] = [];
    const first = rows.length;
    for (const t of tasks) {
      if (t.worker !== w) continue;
      let lane = ends.findIndex((end) => end <= t.start);
      if (lane < 0) {
        lane = ends.length;
        ends.push(0);
        rows.push({ worker: w, placed: [] });
      }
      ends[lane] = t.stop;
      t.lane = lane;
      rows[first + lane].placed.push(t);
    }
  }
  return rows;
}

/** The task stream as an SVG element. */
export function taskStreamSvg(data: ReportData, prefixOf: (key: string) => string): string {
  const rows = lanes(data, prefixOf);
  if (rows.length === 0) return `<p class="empty">No task finished during the run.</p>`;
  const t0 = data.start, span = Math.max(1, data.stop - data.start);
  const x = (t: number) => LEFT + Math.max(0, Math.min(1, (t - t0) / span)) * (WIDTH - LEFT);
  const height = rows.length * ROW + 24;
  const parts: string[] = [];
  let lastWorker = "";
  rows.forEach((row, i) => {
    const y = i * ROW;
    if (row.worker !== lastWorker) {
      lastWorker = row.worker;
      parts.push(
        `<text x="4" y="${y + ROW - 3}" class="label">${escapeHtml(row.worker)}</text>`,
        `<line x1="0" x2="${WIDTH}" y1="${y}" y2="${y}" class="grid"/>`,
      );
    }
    for (const t of row.placed) {
      const x1 = x(t.start), w = Math.max(0.5, x(t.stop) - x1);
      const io = IO_COLOURS[t.action];
      const fill = io ?? (t.ok ? prefixColor(t.prefix) : "black");
      const what = io ? `${t.action} of ${formatBytes(t.nbytes)}` : "";
      parts.push(
        `<rect x="${x1.toFixed(2)}" y="${y + 1}" width="${w.toFixed(2)}" height="${
          ROW - 2
        }" fill="${fill}" data-action="${escapeHtml(t.action)}"><title>${
          escapeHtml(io ? what : t.key)
        } on ${escapeHtml(t.worker)}: ${formatMs(t.stop - t.start)}${
          t.ok ? "" : " (erred)"
        }</title></rect>`,
      );
    }
  });
  parts.push(...timeAxis(rows.length * ROW, span, LEFT));
  return `<svg class="chart" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" ` +
    `aria-label="Task stream">${parts.join("")}</svg>`;
}

/** Ticks under a chart: the run's time from 0 to `span` ms. */
function timeAxis(y: number, span: number, left: number): string[] {
  const out = [`<line x1="${left}" x2="${WIDTH}" y1="${y}" y2="${y}" class="axis"/>`];
  for (let i = 0; i <= 5; i++) {
    const x = left + (i / 5) * (WIDTH - left);
    const anchor = i === 0 ? "start" : i === 5 ? "end" : "middle";
    out.push(
      `<text x="${x}" y="${y + 16}" text-anchor="${anchor}" class="label">${
        formatMs((span * i) / 5)
      }</text>`,
    );
  }
  return out;
}

const MEMORY_KINDS = [
  ["managed", "hsl(210, 70%, 55%)"],
  ["unmanaged", "hsl(210, 40%, 75%)"],
  ["spilled", "hsl(0, 0%, 60%)"],
] as const;

/** The cluster's memory over the run (summed over workers), stacked, as an SVG element. */
export function memorySvg(data: ReportData): string {
  const samples = data.memory;
  if (samples.length === 0) return `<p class="empty">No memory sample was taken.</p>`;
  const totals = samples.map((s) => {
    const sum = { managed: 0, unmanaged: 0, spilled: 0 };
    for (const w of Object.values(s.workers)) {
      sum.managed += w.managed;
      sum.unmanaged += w.unmanaged;
      sum.spilled += w.spilled;
    }
    return { t: s.t, ...sum };
  });
  const top = Math.max(1, ...totals.map((s) => s.managed + s.unmanaged + s.spilled));
  const span = Math.max(1, data.stop - data.start);
  const H = 200;
  const x = (t: number) => LEFT + Math.max(0, Math.min(1, t / span)) * (WIDTH - LEFT);
  const y = (v: number) => H - (v / top) * (H - 10);
  const parts: string[] = [];
  let below = totals.map(() => 0);
  for (const [kind, colour] of MEMORY_KINDS) {
    const above = totals.map((s, i) => below[i] + s[kind]);
    const upper = totals.map((s, i) => `${x(s.t).toFixed(2)},${y(above[i]).toFixed(2)}`);
    const lower = totals.map((s, i) => `${x(s.t).toFixed(2)},${y(below[i]).toFixed(2)}`)
      .reverse();
    if (totals.length === 1) {
      // one sample: a thin bar instead of an area
      upper.push(`${(x(totals[0].t) + 2).toFixed(2)},${y(above[0]).toFixed(2)}`);
      lower.unshift(`${(x(totals[0].t) + 2).toFixed(2)},${y(below[0]).toFixed(2)}`);
    }
    parts.push(
      `<polygon points="${
        [...upper, ...lower].join(" ")
      }" fill="${colour}"><title>${kind}</title></polygon>`,
    );
    below = above;
  }
  parts.push(
    `<text x="4" y="14" class="label">${escapeHtml(formatBytes(top))}</text>`,
    `<text x="4" y="${H - 2}" class="label">0 B</text>`,
    ...MEMORY_KINDS.map(([kind, colour], i) =>
      `<rect x="4" y="${40 + i * 18}" width="10" height="10" fill="${colour}"/>` +
      `<text x="18" y="${49 + i * 18}" class="label">${kind}</text>`
    ),
    ...timeAxis(H, span, LEFT),
  );
  return `<svg class="chart" viewBox="0 0 ${WIDTH} ${H + 24}" width="100%" role="img" ` +
    `aria-label="Cluster memory">${parts.join("")}</svg>`;
}
