/** A plain HTML status page (the live dashboard comes later). */
import type { ClusterView } from "./metrics.ts";

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders the cluster's state as a small self-refreshing page. */
export function statusPage(v: ClusterView): string {
  const rows = v.workers.map((w) =>
    `<tr><td>${esc(w.address)}</td><td>${esc(w.name)}</td><td>${w.nthreads}</td>` +
    `<td>${w.status}</td><td>${w.processing}</td><td>${w.stored}</td>` +
    `<td>${mib(w.memory.managed)}</td><td>${mib(w.memory.unmanaged)}</td>` +
    `<td>${mib(w.memory.spilled)}</td><td>${mib(w.memoryLimit)}</td></tr>`
  ).join("");
  const counts = Object.entries(v.counts).filter(([s]) => s !== "forgotten")
    .map(([s, n]) => `<li>${esc(s)}: ${n}</li>`).join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>dtask</title>
<meta http-equiv="refresh" content="2"><style>body{font-family:sans-serif;margin:2em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}</style></head>
<body><h1>dtask scheduler</h1><p>${esc(v.address)} · up ${v.uptimeSeconds.toFixed(0)} s ·
${v.clients} clients · ${v.tasksCompleted} tasks completed</p><h2>Tasks</h2><ul>${counts}</ul>
<h2>Workers (${v.workers.length})</h2><table><tr><th>address</th><th>name</th><th>threads</th>
<th>status</th><th>processing</th><th>keys</th><th>managed</th><th>unmanaged</th><th>spilled</th>
<th>limit</th></tr>${rows}</table></body></html>`;
}

function mib(bytes: number): string {
  return bytes ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : "0";
}
