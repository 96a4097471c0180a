/**
 * The dashboard's door when the cluster has a token: the live feed (`/ws`) needs it, the
 * read-only pages stay open unless `dashboardToken: true`, `/health` is always open, and a token
 * given once in the address is remembered in a cookie for what the page loads next.
 */
import assert from "node:assert/strict";
import { LocalCluster } from "../../mod.ts";

const TOKEN = "s3cret-token";

async function status(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.body?.cancel();
  return res.status;
}

/** Whether a WebSocket to `url` opens (true) or is refused (false). */
function wsOpens(url: string): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  const ws = new WebSocket(url);
  ws.onopen = () => {
    resolve(true);
    ws.close();
  };
  ws.onerror = () => resolve(false);
  return promise.then(async (opened) => {
    if (ws.readyState !== WebSocket.CLOSED) {
      await new Promise((r) => ws.addEventListener("close", r, { once: true }));
    }
    return opened;
  });
}

Deno.test("with a token the live feed needs it; the pages stay open; /health always", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    processes: false,
    authToken: TOKEN,
    dashboardAddress: "127.0.0.1:0",
    silenceLogs: true,
  });
  const base = cluster.dashboardLink!.replace(/status$/, "");
  const ws = base.replace(/^http/, "ws") + "ws";
  assert.equal(await status(`${base}status`), 200);
  assert.equal(await status(`${base}workers`), 200);
  assert.equal(await status(`${base}health`), 200);
  assert.equal(await status(ws.replace(/^ws/, "http")), 401, "the feed without the token");
  assert.equal(await wsOpens(ws), false);
  assert.equal(await wsOpens(`${ws}?token=wrong`), false);
  assert.equal(await wsOpens(`${ws}?token=${TOKEN}`), true);
});

Deno.test("dashboardToken: every page needs the token; given once, a cookie carries it", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    processes: false,
    authToken: TOKEN,
    dashboardToken: true,
    dashboardAddress: "127.0.0.1:0",
    silenceLogs: true,
  });
  const base = cluster.dashboardLink!.replace(/status$/, "");
  assert.equal(await status(`${base}status`), 401);
  assert.equal(await status(`${base}metrics`), 401);
  assert.equal(await status(`${base}health`), 200, "probes need no token");
  const res = await fetch(`${base}status?token=${TOKEN}`);
  await res.body?.cancel();
  assert.equal(res.status, 200);
  const cookie = res.headers.get("set-cookie")!;
  assert.match(cookie, /^dtask-token=s3cret-token; Path=\/; HttpOnly; SameSite=Strict$/);
  const jar = { headers: { cookie: cookie.split(";")[0] } };
  assert.equal(await status(`${base}static/dashboard.js`, jar), 200);
  assert.equal(await status(`${base}workers`, jar), 200);
  assert.equal(
    await status(`${base}json/counts.json`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    200,
  );
});
