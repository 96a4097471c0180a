/**
 * A performance report as one self-contained HTML page: styles, charts (inline SVG), data
 * (inline JSON) and its one small script are all in the file, and it loads nothing from the
 * network: no external script, stylesheet, font or image.
 * @module
 */
import { escapeHtml } from "../core/display_html.ts";
import { formatBytes } from "../core/format_bytes.ts";
import { keyPrefix } from "../core/keys.ts";
import { MAX_DRAWN_TASKS, memorySvg, taskStreamSvg } from "./report_charts.ts";
import { formatMs, IO_COLOURS, isCompute, prefixColor, type ReportData } from "./report_data.ts";

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin-top: 1.6em; }
.meta { color: #555; }
.notes { color: #a40; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
th:first-child, td:first-child { text-align: left; }
th { cursor: pointer; background: #f4f4f4; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; }
.chart { max-width: 1100px; border: 1px solid #ddd; }
.chart .label { font-size: 10px; fill: #333; }
.chart .grid { stroke: #eee; }
.chart .axis { stroke: #999; }
.empty { color: #777; }
`;

/** Sorts a table by the column whose header is clicked (numbers by their data-v). */
const SCRIPT = `
document.querySelectorAll("table.sortable th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var down = th.getAttribute("data-down") !== "1";
    th.setAttribute("data-down", down ? "1" : "0");
    var value = function (row) {
      var cell = row.cells[col];
      var v = cell.getAttribute("data-v");
      return v === null ? cell.textContent : Number(v);
    };
    rows.sort(function (a, b) {
      var x = value(a), y = value(b);
      var c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
      return down ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
`;

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function num(v: number, text: string): string {
  return `<td data-v="${Number.isFinite(v) ? v : 0}">${escapeHtml(text)}</td>`;
}

function prefixTable(data: ReportData): string {
  if (data.prefixes.length === 0) return `<p class="empty">No task finished during the run.</p>`;
  const rows = data.prefixes.map((p) =>
    `<tr><td><span class="swatch" style="background:${prefixColor(p.prefix)}"></span>${
      escapeHtml(p.prefix)
    }</td>${num(p.count, String(p.count))}${num(p.erred, String(p.erred))}${
      num(p.totalMs, formatMs(p.totalMs))
    }${num(p.meanMs, formatMs(p.meanMs))}${num(p.maxMs, formatMs(p.maxMs))}</tr>`
  );
  return `<table class="sortable" id="prefixes"><thead><tr><th>Task prefix</th><th>Tasks</th>` +
    `<th>Erred</th><th>Compute time</th><th>Mean</th><th>Max</th></tr></thead><tbody>${
      rows.join("")
    }</tbody></table>`;
}

function ioTable(data: ReportData): string {
  if (data.io.length === 0) {
    return `<p class="empty">No value moved between workers or to disk during the run.</p>`;
  }
  const rows = data.io.map((t) => {
    const rate = t.totalMs > 0 ? t.bytes / (t.totalMs / 1000) : 0;
    return `<tr><td><span class="swatch" style="background:${IO_COLOURS[t.action]}"></span>${
      escapeHtml(t.action)
    }</td>${num(t.count, String(t.count))}${num(t.bytes, formatBytes(t.bytes))}${
      num(t.totalMs, formatMs(t.totalMs))
    }${num(rate, rate > 0 ? `${formatBytes(rate)}/s` : "-")}</tr>`;
  });
  return `<table class="sortable" id="io"><thead><tr><th>Action</th><th>Count</th>` +
    `<th>Bytes</th><th>Time</th><th>Throughput</th></tr></thead><tbody>${
      rows.join("")
    }</tbody></table>`;
}

function workerTable(data: ReportData): string {
  const peak = new Map<string, { rss: number; managed: number; spilled: number; status: string }>();
  for (const s of data.memory) {
    for (const [addr, w] of Object.entries(s.workers)) {
      const p = peak.get(addr) ?? { rss: 0, managed: 0, spilled: 0, status: w.status };
      p.rss = Math.max(p.rss, w.rss);
      p.managed = Math.max(p.managed, w.managed);
      p.spilled = Math.max(p.spilled, w.spilled);
      p.status = w.status;
      peak.set(addr, p);
    }
  }
  if (peak.size === 0) return "";
  const rows = [...peak].sort(([a], [b]) => a.localeCompare(b)).map(([addr, p]) =>
    `<tr><td>${escapeHtml(addr)}</td>${num(p.rss, formatBytes(p.rss))}${
      num(p.managed, formatBytes(p.managed))
    }${num(p.spilled, formatBytes(p.spilled))}<td>${escapeHtml(p.status)}</td></tr>`
  );
  return `<table class="sortable" id="workers"><thead><tr><th>Worker</th><th>Peak RSS</th>` +
    `<th>Peak managed</th><th>Peak spilled</th><th>Last status</th></tr></thead><tbody>${
      rows.join("")
    }</tbody></table>`;
}

/** The report's page. */
export function reportHtml(data: ReportData): string {
  const duration = data.stop - data.start;
  const drawn = data.tasks.length > MAX_DRAWN_TASKS
    ? `<p class="meta">The first ${MAX_DRAWN_TASKS} of ${data.tasks.length} tasks are drawn.</p>`
    : "";
  const notes = data.notes.length
    ? `<ul class="notes">${data.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">dtask ${escapeHtml(data.version)} · started ${
    escapeHtml(new Date(data.start).toISOString())
  } · duration ${escapeHtml(formatMs(duration))} · scheduler ${
    escapeHtml(data.schedulerAddress)
  } · ${data.tasks.filter(isCompute).length} tasks · ${data.memory.length} memory samples</p>
${notes}
<h2 id="task-stream">Task stream</h2>
${taskStreamSvg(data, keyPrefix)}
${drawn}
<h2 id="task-prefixes">Compute time per task prefix</h2>
${prefixTable(data)}
<h2 id="memory">Cluster memory</h2>
${memorySvg(data)}
<p class="meta">Each sample holds what the workers last told the scheduler: they report their memory
with each heartbeat, about once a second.</p>
${workerTable(data)}
<h2 id="transfers">Transfers and disk I/O</h2>
${ioTable(data)}
<p class="meta">A transfer is one fetch of values from a peer worker (its time from the ask to the
answer); disk-write and disk-read are values spilled to disk and read back.</p>
<script type="application/json" id="dtask-report-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
