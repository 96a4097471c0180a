/**
 * Workload h of `deno task bench`: the dashboard's cost. Workload a (map 10,000 no-ops + gather)
 * with the cluster's /status page open in headless Chromium (its live feed, task stream and bars
 * drawing all the while), beside a with no page open, on the same cluster, in alternation: the
 * two sides of each pair differ by the page alone, not by a cluster started another time on a
 * machine whose speed drifts. One browser serves the whole run (idle while no page is open), so
 * its start-up, seconds of CPU, is not counted as the page's. Needs Debian's chromium (as the browser tests); without it the
 * figures are missing and say why.
 */
import { type Browser, chromium } from "playwright-core";
import { Client, LocalCluster, type LocalClusterOptions } from "../mod.ts";
import { type Figures, median } from "./stats.ts";

/** Tasks per batch, measured batches per side of a pair, and unmeasured ones before them. */
const N = 10_000, BATCHES = 3, WARM = 3;

/**
 * Workload h: a warm-up pair, then `reps` pairs; each pair runs a with no page open and with the
 * page open (which first alternates), `BATCHES` measured batches each after `WARM` unmeasured ones.
 */
export async function runDashboardCost(
  shape: LocalClusterOptions,
  reps: number,
): Promise<Figures> {
  const executablePath = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
  try {
    Deno.statSync(executablePath);
  } catch {
    console.error(
      `workload h skipped: no Chromium at ${executablePath} (apt-get install chromium)`,
    );
    return {};
  }
  await using cluster = await LocalCluster.start({ ...shape, dashboardAddress: "127.0.0.1:0" });
  await using client = await Client.connect(cluster);
  const noop = (x: number) => x;
  let next = 0;
  // unmeasured batches first: a page opening or closing settles before the measure
  const batches = async (): Promise<number[]> => {
    const rates: number[] = [];
    for (let b = -WARM; b < BATCHES; b++) {
      const s = (next += N);
      const t = performance.now();
      const fs = client.map(noop, Array.from({ length: N }, (_, i) => s + i));
      await client.gather(fs);
      if (b >= 0) rates.push(N / ((performance.now() - t) / 1000));
      client.release(fs);
    }
    return rates;
  };
  // one browser for the whole run (its start-up takes seconds of CPU, which are not the page's);
  // the page is opened for each measurement with it and closed after
  const browser: Browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  const withPage = async (): Promise<number[]> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await page.goto(cluster.dashboardLink!);
      await page.waitForSelector('[data-testid="connection"][data-state="open"]');
      return await batches();
    } finally {
      await page.close();
    }
  };
  const open: number[] = [], closed: number[] = [], ratios: number[] = [];
  try {
    for (let pair = 0; pair <= reps; pair++) {
      const openFirst = pair % 2 === 1;
      const a = openFirst ? await withPage() : await batches();
      const b = openFirst ? await batches() : await withPage();
      if (pair === 0) continue; // the warm-up
      const [o, c] = openFirst ? [a, b] : [b, a];
      open.push(...o);
      closed.push(...c);
      ratios.push(median(o) / median(c));
    }
  } finally {
    await browser.close();
  }
  return {
    h_dashboard_open_tasks_per_s: { median: median(open), samples: open },
    h_no_dashboard_tasks_per_s: { median: median(closed), samples: closed },
    h_open_to_closed_ratio: { median: median(ratios), samples: ratios },
  };
}
