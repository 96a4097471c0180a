/** A task's page: its state, its links both ways, who holds it and who wants it. */
import { esc, layout, table } from "./layout.ts";
import { formatBytes } from "../../core/format_bytes.ts";
import type { TaskInfo, TaskLink } from "./model.ts";

function taskLink(prefix: string, key: string): string {
  return `<a href="${esc(`${prefix}/info/task/${encodeURIComponent(key)}`)}"><code>${
    esc(key)
  }</code></a>`;
}

function links(prefix: string, tasks: readonly TaskLink[]): string {
  if (tasks.length === 0) return "none";
  return table(["key", "state"], tasks.map((t) => [taskLink(prefix, t.key), esc(t.state)]));
}

function list(items: readonly string[]): string {
  return items.length ? items.map((i) => `<code>${esc(i)}</code>`).join("<br>") : "none";
}

/** Renders task `t`'s page. */
export function taskPage(prefix: string, t: TaskInfo): string {
  const rows: string[][] = [
    ["key", `<code>${esc(t.key)}</code>`],
    ["state", esc(t.state)],
    ["prefix", esc(t.prefix)],
    ["size", t.nbytes >= 0 ? formatBytes(t.nbytes) : "not computed"],
    ["processing on", t.processingOn === null ? "none" : `<code>${esc(t.processingOn)}</code>`],
    ["who has it", list(t.whoHas)],
    ["wanted by clients", list(t.wantedBy)],
  ];
  if (t.error) {
    rows.push(["error", `<span class="bad">${esc(t.error.name)}</span>: ${esc(t.error.message)}`]);
  }
  if (t.blame !== null && t.blame !== t.key) {
    rows.push(["erred because of", taskLink(prefix, t.blame)]);
  }
  const body = table(["", ""], rows.map(([k, v]) => [esc(k), v])) +
    `<h2>Dependencies (${t.dependencies.length})</h2>${links(prefix, t.dependencies)}` +
    `<h2>Dependents (${t.dependents.length})</h2>${links(prefix, t.dependents)}`;
  return layout(prefix, `Task ${t.key}`, "", body);
}

/** The page for a key the scheduler does not know. */
export function unknownTaskPage(prefix: string, key: string): string {
  return layout(
    prefix,
    "Unknown task",
    "",
    `<p>The scheduler knows no task <code>${esc(key)}</code>: it never existed, or it was ` +
      `forgotten once no client wanted it.</p>`,
  );
}
