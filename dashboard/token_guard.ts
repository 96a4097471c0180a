/**
 * The dashboard's door when the cluster has an auth token: its live feed (`/ws`) needs the token,
 * and with `dashboardToken: true` every page does too (`/health` stays open for probes). A
 * browser gives it once in the address (`…/status?token=…`); the answer sets an HttpOnly,
 * same-site cookie under the dashboard's path, so the page's files and its feed socket carry it
 * from then on. Scripts may send `Authorization: Bearer <token>` instead.
 *
 * @module
 */
import { tokenMatches } from "../comm/handshake.ts";

/** The cookie that carries the token after the first request. */
const COOKIE = "dtask-token";

/** Who may see the dashboard. */
export interface DashboardGuard {
  /** The cluster's auth token; undefined: everything is open. */
  readonly token: string | undefined;
  /** Whether the read-only pages need it too (`dashboardToken: true`), not only the feed. */
  readonly pages: boolean;
}

/** The token a request carries: in its address, its Authorization header or its cookie. */
function givenToken(req: Request, url: URL): string | undefined {
  const query = url.searchParams.get("token");
  if (query !== null) return query;
  const auth = req.headers.get("authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7);
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === COOKIE) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

/**
 * Checks `req` for `path` (the route under the prefix): null when it may go on, else the 401 to
 * answer.
 */
export function refuse(
  guard: DashboardGuard,
  req: Request,
  url: URL,
  path: string,
): Response | null {
  if (guard.token === undefined || path === "/health") return null;
  if (path !== "/ws" && !guard.pages) return null;
  if (tokenMatches(givenToken(req, url), guard.token)) return null;
  return new Response(
    "this dashboard needs the cluster's auth token: open it as …/status?token=<token> (the " +
      "token of --auth-token-file or the authToken option), or send Authorization: Bearer <token>",
    { status: 401, headers: { "content-type": "text/plain; charset=utf-8" } },
  );
}

/**
 * `res` with the token cookie set when `req` gave the token in its address, so that what the
 * page loads next (its files, its feed socket) carries it.
 */
export function rememberToken(
  guard: DashboardGuard,
  url: URL,
  prefix: string,
  res: Response,
): Response {
  const token = url.searchParams.get("token");
  if (guard.token === undefined || token === null || !tokenMatches(token, guard.token)) return res;
  if (res.status === 101) return res; // a WebSocket upgrade cannot take headers now
  const headers = new Headers(res.headers);
  headers.append(
    "set-cookie",
    `${COOKIE}=${encodeURIComponent(token)}; Path=${prefix || "/"}; HttpOnly; SameSite=Strict`,
  );
  return new Response(res.body, { status: res.status, headers });
}
