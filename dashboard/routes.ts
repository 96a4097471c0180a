/**
 * The dashboard's routes, all under its prefix: the live pages (their files in
 * dashboard/assets/), the WebSocket that feeds them, server-rendered pages, JSON and metrics.
 * `sitemap.json` lists them.
 *
 * @module
 */
import { type DashboardGuard, refuse, rememberToken } from "./token_guard.ts";
import { assetResponse } from "./assets.ts";
import type { FeedIdentity } from "./feed_protocol.ts";
import { type ClusterView, prometheusText } from "./metrics.ts";
import type { SystemSample } from "./system_samples.ts";
import { htmlResponse } from "./pages/layout.ts";
import type { ErredRow, TaskInfo, WorkerRow } from "./pages/model.ts";
import { workersPage } from "./pages/workers_page.ts";
import { exceptionsPage } from "./pages/exceptions_page.ts";
import { taskPage, unknownTaskPage } from "./pages/task_page.ts";
import { systemPage } from "./pages/system_page.ts";
import { infoPage } from "./pages/info_page.ts";
import { unknownWorkerPage, workerPage } from "./pages/worker_page.ts";

/** What the routes read from the scheduler (read-only), and where page sockets go. */
export interface DashboardHost {
  view(): ClusterView;
  identity(): FeedIdentity;
  workers(): WorkerRow[];
  /** The latest tasks that erred, oldest first. */
  exceptions(): ErredRow[];
  /** Task `key`, or null when the scheduler knows none. */
  task(key: string): TaskInfo | null;
  /**
   * Worker `address`'s last log lines (`[level, message]`, oldest first): null when it did not
   * answer within 5 s, undefined when no such worker is connected.
   */
  workerLogs(address: string): Promise<[string, string][] | null | undefined>;
  /** The scheduler's own samples, oldest first. */
  system(): SystemSample[];
  /** Upgrades a request to the live feed's WebSocket. */
  socket(req: Request): Response;
}

/** Every route, under the prefix (`{key}`, `{address}`: a URL-encoded task key, worker address). */
export const ROUTES: readonly string[] = [
  "/status",
  "/tasks",
  "/workers",
  "/exceptions",
  "/system",
  "/info",
  "/info/task/{key}",
  "/info/worker/{address}",
  "/ws",
  "/static/{file}",
  "/json/counts.json",
  "/json/identity.json",
  "/info.json",
  "/sitemap.json",
  "/health",
  "/metrics",
];

const TEXT = { "content-type": "text/plain; charset=utf-8" };

function notFound(): Response {
  return new Response("not found", { status: 404, headers: TEXT });
}

/** The live page `name`: a file shipped in dashboard/assets/. */
async function livePage(name: string): Promise<Response> {
  return await assetResponse(name) ?? new Response(
    `the dashboard's page ${name} is missing from this installation of dtask (its ` +
      `dashboard/assets/ folder): install the package again`,
    { status: 500, headers: TEXT },
  );
}

/** Dask's counts.json: tasks by state, and the cluster's size. */
export function countsJson(v: ClusterView): Record<string, number> {
  const out: Record<string, number> = {};
  let tasks = 0;
  for (const [state, n] of Object.entries(v.counts)) {
    if (state === "forgotten") continue;
    out[state] = n;
    tasks += n;
  }
  return {
    ...out,
    tasks,
    workers: v.workers.length,
    threads: v.workers.reduce((n, w) => n + w.nthreads, 0),
    clients: v.clients,
  };
}

/** Dask's identity.json: who the scheduler is and its workers. */
export function identityJson(id: FeedIdentity, v: ClusterView): Record<string, unknown> {
  return {
    type: "Scheduler",
    ...id,
    workers: Object.fromEntries(v.workers.map((w) => [w.address, {
      name: w.name,
      nthreads: w.nthreads,
      memoryLimit: w.memoryLimit,
    }])),
  };
}

/**
 * The request handler of the routes under `prefix` ("" or "/dask"); `guard`: who may see them
 * (the cluster's token, needed by the live feed, and by every page with `dashboardToken`).
 */
export function dashboardRoutes(
  prefix: string,
  host: DashboardHost,
  guard: DashboardGuard = { token: undefined, pages: false },
): (req: Request) => Response | Promise<Response> {
  const home = `${prefix}/status`;
  return async (req) => {
    const url = new URL(req.url);
    const full = url.pathname;
    if (full === "/" || full === prefix || full === `${prefix}/`) {
      return new Response(null, { status: 302, headers: { location: home + url.search } });
    }
    if (prefix && !full.startsWith(`${prefix}/`)) return notFound();
    const path = full.slice(prefix.length);
    const refused = refuse(guard, req, url, path);
    if (refused) return refused;
    return rememberToken(guard, url, prefix, await route(req, path));
  };

  function route(req: Request, path: string): Response | Promise<Response> {
    switch (path) {
      case "/status":
        return livePage("status.html");
      case "/tasks":
        return livePage("tasks.html");
      case "/ws":
        return host.socket(req);
      case "/workers":
        return htmlResponse(workersPage(prefix, host.workers()));
      case "/exceptions":
        return htmlResponse(exceptionsPage(prefix, host.exceptions()));
      case "/system":
        return htmlResponse(systemPage(prefix, host.system()));
      case "/info":
        return htmlResponse(infoPage(prefix, host.identity(), ROUTES));
      case "/json/counts.json":
        return Response.json(countsJson(host.view()));
      case "/json/identity.json":
        return Response.json(identityJson(host.identity(), host.view()));
      case "/info.json":
        return Response.json(host.view());
      case "/sitemap.json":
        return Response.json({ paths: ROUTES.map((r) => prefix + r) });
      case "/health":
        return new Response("ok", { headers: { "content-type": "text/plain" } });
      case "/metrics":
        return new Response(prometheusText(host.view()), {
          headers: { "content-type": "text/plain; version=0.0.4" },
        });
    }
    if (path.startsWith("/static/")) {
      return assetResponse(path.slice("/static/".length)).then((r) => r ?? notFound());
    }
    if (path.startsWith("/info/task/")) return task(prefix, host, path.slice(11));
    if (path.startsWith("/info/worker/")) return worker(prefix, host, path.slice(13));
    return notFound();
  }
}

function task(prefix: string, host: DashboardHost, encoded: string): Response {
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    return htmlResponse(unknownTaskPage(prefix, encoded), 404);
  }
  const info = host.task(key);
  return info
    ? htmlResponse(taskPage(prefix, info))
    : htmlResponse(unknownTaskPage(prefix, key), 404);
}

async function worker(prefix: string, host: DashboardHost, encoded: string): Promise<Response> {
  let address: string;
  try {
    address = decodeURIComponent(encoded);
  } catch {
    return htmlResponse(unknownWorkerPage(prefix, encoded), 404);
  }
  const row = host.workers().find((w) => w.address === address);
  if (!row) return htmlResponse(unknownWorkerPage(prefix, address), 404);
  const lines = await host.workerLogs(address);
  if (lines === undefined) return htmlResponse(unknownWorkerPage(prefix, address), 404);
  return htmlResponse(workerPage(prefix, row, lines));
}
