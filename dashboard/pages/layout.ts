/**
 * The frame of the server-rendered dashboard pages: a title, a nav bar linking every page,
 * small inline styles, and HTML escaping for everything that comes from the cluster.
 *
 * @module
 */

/** Escapes text for HTML content and attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The pages the nav bar links, by label and path (under the dashboard's prefix). */
export const NAV: readonly (readonly [string, string])[] = [
  ["Status", "/status"],
  ["Workers", "/workers"],
  ["Tasks", "/tasks"],
  ["Exceptions", "/exceptions"],
  ["System", "/system"],
  ["Info", "/info"],
];

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#222}
nav{background:#2b3a42;padding:.5em 1em}nav a{color:#eee;margin-right:1.2em;text-decoration:none}
nav a.here{color:#fff;font-weight:bold;border-bottom:2px solid #f0a030}
main{margin:1em 2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;
text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:95%}.bad{color:#b00}`;

/** A whole page: `body` (already HTML) under a nav bar whose links start with `prefix`. */
export function layout(prefix: string, title: string, here: string, body: string): string {
  const links = NAV.map(([label, path]) =>
    `<a href="${esc(prefix + path)}"${path === here ? ' class="here"' : ""}>${label}</a>`
  ).join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)} · dtask</title>
<style>${STYLE}</style></head><body><nav>${links}</nav><main><h1>${esc(title)}</h1>
${body}</main></body></html>`;
}

/** An HTML table: a header row, then one row per entry (cells already HTML). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = header.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
  return `<table><tr>${head}</tr>${body}</table>`;
}

/** A page as an HTML response. */
export function htmlResponse(html: string, status = 200): Response {
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}
