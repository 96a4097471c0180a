/** The scheduler's HTTP server: /health, /metrics, and a status page. */
import { type ClusterView, prometheusText } from "./metrics.ts";
import { statusPage } from "./status_page.ts";

/** A running HTTP server. */
export interface HttpServer {
  /** The status page's URL. */
  readonly link: string;
  readonly port: number;
  close(): Promise<void>;
  /** Lets the program exit while it serves (a LocalCluster's dashboard). */
  unref(): void;
}

/** Parses `:8787`, `host:8787` or `8787`; an empty host means `defaultHost`. */
export function parseHostPort(address: string, defaultHost: string): [string, number] {
  const m = /^(?:(\[[^\]]*\]|[^:]*):)?(\d+)$/.exec(address.trim());
  if (!m) {
    throw new TypeError(
      `dashboardAddress must look like ":8787" or "host:8787", got ${JSON.stringify(address)}`,
    );
  }
  return [m[1] ? m[1].replace(/^\[|\]$/g, "") : defaultHost, Number(m[2])];
}

/**
 * Serves the dashboard routes. If the port is taken, another one is chosen and a warning
 * is logged (as Dask does). Listening on every interface (0.0.0.0, ::), the link shows
 * `publicHost()`, a host others can reach (default 127.0.0.1).
 */
export function serveDashboard(
  address: string,
  defaultHost: string,
  view: () => ClusterView,
  log: (line: string) => void,
  publicHost: () => string = () => "127.0.0.1",
): Promise<HttpServer> {
  try {
    return Promise.resolve(serve(address, defaultHost, view, log, publicHost));
  } catch (e) {
    return Promise.reject(e);
  }
}

function serve(
  address: string,
  defaultHost: string,
  view: () => ClusterView,
  log: (line: string) => void,
  publicHost: () => string,
): HttpServer {
  const [host, port] = parseHostPort(address, defaultHost);
  const handler = (req: Request): Response => {
    const path = new URL(req.url).pathname;
    switch (path) {
      case "/health":
        return new Response("ok", { headers: { "content-type": "text/plain" } });
      case "/metrics":
        return new Response(prometheusText(view()), {
          headers: { "content-type": "text/plain; version=0.0.4" },
        });
      case "/":
      case "/status":
        return new Response(statusPage(view()), {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      case "/info.json":
        return Response.json(view());
      default:
        return new Response("not found", { status: 404 });
    }
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  const opts = { hostname: host, onListen: () => {} };
  try {
    server = Deno.serve({ ...opts, port }, handler);
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    server = Deno.serve({ ...opts, port: 0 }, handler);
    log(
      `Port ${port} is already in use. Perhaps you already have a cluster running? ` +
        `Hosting the HTTP server on port ${server.addr.port} instead`,
    );
  }
  const shown = /^(0\.0\.0\.0|::|)$/.test(host) ? publicHost() : host;
  return {
    link: `http://${shown.includes(":") ? `[${shown}]` : shown}:${server.addr.port}/status`,
    port: server.addr.port,
    close: () => server.shutdown(),
    unref: () => server.unref(),
  };
}
