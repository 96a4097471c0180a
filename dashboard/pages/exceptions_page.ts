/** The exceptions page: the latest tasks that erred, newest first, with their errors. */
import { esc, layout, table } from "./layout.ts";
import type { ErredRow } from "./model.ts";

/** Renders the exceptions page (`erred`: oldest first, as the ring keeps them). */
export function exceptionsPage(prefix: string, erred: readonly ErredRow[]): string {
  const rows = erred.toReversed().map((e) => [
    esc(new Date(e.time).toISOString()),
    `<a href="${esc(`${prefix}/info/task/${encodeURIComponent(e.key)}`)}"><code>${
      esc(e.key)
    }</code></a>`,
    `<code>${esc(e.worker)}</code>`,
    `<span class="bad">${esc(e.name)}</span>`,
    `<pre>${esc(e.message)}</pre>`,
  ]);
  const body = erred.length === 0
    ? "<p>No task has erred.</p>"
    : table(["time", "key", "worker", "error", "message"], rows);
  return layout(prefix, "Exceptions", "/exceptions", body);
}
