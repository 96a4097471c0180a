// Dask's quickstart in dtask: a local cluster, a client, a map, a gather.
import { Client, LocalCluster } from "../mod.ts";

const inc = async (x: number) => {
  await new Promise((r) => setTimeout(r, 100));
  return x + 1;
};

await using cluster = await LocalCluster.start({
  nWorkers: 2,
  threadsPerWorker: 2,
  dashboardAddress: ":8787",
});
console.log(`Dashboard available at: ${cluster.dashboardLink}`);
await using client = await Client.connect(cluster);
console.log(`Client connected to: ${client.schedulerAddress}`);
const results = await client.gather(client.map(inc, Array.from({ length: 10 }, (_, i) => i)));
console.log(`Results: ${results}`);
