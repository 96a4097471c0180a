/**
 * Workload h of `deno task bench`: the dashboard's cost. Workload a (map 10,000 no-ops + gather)
 * on a cluster whose /status page is open in headless Chromium (its live feed, task stream and
 * bars drawing all the while), to set beside a on a cluster that serves no dashboard. Needs
 * Debian's chromium (as the browser tests); without it the figure is missing and says why.
 */
import { chromium } from "playwright-core";
import { Client, LocalCluster, type LocalClusterOptions } from "../mod.ts";
import { type Figures, median } from "./stats.ts";

/** Workload h: a warm-up run, then `reps` measured ones, with the page open. */
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
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(cluster.dashboardLink!);
    await page.waitForSelector('[data-testid="connection"][data-state="open"]');
    const noop = (x: number) => x;
    const samples: number[] = [];
    for (let run = 0; run <= reps; run++) {
      const n = 10_000, s = (run + 1) * n;
      const t = performance.now();
      const fs = client.map(noop, Array.from({ length: n }, (_, i) => s + i));
      await client.gather(fs);
      const dt = performance.now() - t;
      client.release(fs);
      if (run > 0) samples.push(n / (dt / 1000)); // the first is the warm-up
    }
    return { h_dashboard_open_tasks_per_s: { median: median(samples), samples } };
  } finally {
    await browser.close();
  }
}
