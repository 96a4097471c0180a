/**
 * The dashboard's files (dashboard/assets/: its pages, script and styles), shipped inside the
 * package and served by the scheduler itself: no CDN, no build step. Read once, then kept.
 *
 * @module
 */

/** Content types by file extension. */
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  json: "application/json",
};

const cache = new Map<string, Promise<Uint8Array | null>>();

/** How many assets are cached (shipped files served so far, and loads in flight). */
export function cachedAssetCount(): number {
  return cache.size;
}

/**
 * The asset `name` (a file of dashboard/assets/, such as "status.html" or "dashboard.js") as an
 * HTTP response, or null when there is no such file. Names with a path are refused.
 */
export async function assetResponse(name: string): Promise<Response | null> {
  if (!/^[a-z0-9_-]+\.[a-z0-9]+$/i.test(name)) return null;
  const type = TYPES[name.slice(name.lastIndexOf(".") + 1)];
  if (type === undefined) return null;
  let body = cache.get(name);
  if (!body) cache.set(name, body = load(name));
  const bytes = await body;
  if (bytes === null) {
    cache.delete(name); // only shipped files are kept: a stream of unknown names keeps nothing
    return null;
  }
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": type, "cache-control": "no-cache" },
  });
}

async function load(name: string): Promise<Uint8Array | null> {
  try {
    // fetch reads file: URLs here and https: ones when the package is imported from a registry
    const res = await fetch(new URL(`./assets/${name}`, import.meta.url));
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
  } catch {
    return null;
  }
}
