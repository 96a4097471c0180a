/** The info page: who the scheduler is, and where its machine-readable routes are. */
import type { FeedIdentity } from "../feed_protocol.ts";
import { esc, layout, table } from "./layout.ts";

/** Renders the info page: identity, then links to `routes` (paths under the prefix). */
export function infoPage(prefix: string, id: FeedIdentity, routes: readonly string[]): string {
  const body = table(["", ""], [
    ["address", `<code>${esc(id.address)}</code>`],
    ["id", `<code>${esc(id.id)}</code>`],
    ["version", esc(id.version)],
    ["started", esc(new Date(id.started).toISOString())],
  ]) + `<h2>Routes</h2><ul>${
    routes.map((r) => `<li><a href="${esc(prefix + r)}">${esc(prefix + r)}</a></li>`).join("")
  }</ul>`;
  return layout(prefix, "Info", "/info", body);
}
