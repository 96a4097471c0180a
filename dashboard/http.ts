/** The scheduler's HTTP server, which serves the dashboard's routes (routes.ts). */

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

/** Where and how the dashboard is served. */
export interface DashboardServeOptions {
  /** `host:port`, `:port` or `port`. */
  address: string;
  /** The host when the address names none. */
  defaultHost: string;
  /** Every route's prefix, normalised ("" or e.g. "/dask"; see prefix.ts). */
  prefix: string;
  /** Answers the requests (routes.ts). */
  handler: (req: Request) => Response | Promise<Response>;
  log: (line: string) => void;
  /** A host others can reach, shown when listening on every interface (default 127.0.0.1). */
  publicHost?: () => string;
}

/**
 * Serves the dashboard. If the port is taken, another one is chosen and a warning is logged
 * (as Dask does). Listening on every interface (0.0.0.0, ::), the link shows `publicHost()`.
 */
export function serveDashboard(o: DashboardServeOptions): Promise<HttpServer> {
  try {
    return Promise.resolve(serve(o));
  } catch (e) {
    return Promise.reject(e);
  }
}

function serve(o: DashboardServeOptions): HttpServer {
  const [host, port] = parseHostPort(o.address, o.defaultHost);
  let server: Deno.HttpServer<Deno.NetAddr>;
  const opts = { hostname: host, onListen: () => {} };
  try {
    server = Deno.serve({ ...opts, port }, o.handler);
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    server = Deno.serve({ ...opts, port: 0 }, o.handler);
    o.log(
      `Port ${port} is already in use. Perhaps you already have a cluster running? ` +
        `Hosting the HTTP server on port ${server.addr.port} instead`,
    );
  }
  const shown = /^(0\.0\.0\.0|::|)$/.test(host) ? (o.publicHost ?? (() => "127.0.0.1"))() : host;
  const origin = `http://${shown.includes(":") ? `[${shown}]` : shown}:${server.addr.port}`;
  return {
    link: `${origin}${o.prefix}/status`,
    port: server.addr.port,
    close: () => server.shutdown(),
    unref: () => server.unref(),
  };
}
