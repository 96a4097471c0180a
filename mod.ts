/**
 * dtask: Dask Distributed for Deno. A scheduler, workers and a client with futures, and a
 * local cluster that starts in one line.
 *
 * ```ts
 * import { Client, LocalCluster } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 2 });
 * await using client = await Client.connect(cluster);
 * console.log(await client.gather(client.map((x: number) => x + 1, [1, 2, 3]))); // [2, 3, 4]
 * ```
 * @module
 */
import "./comm/msgpack_native.ts";
import { registerDialer, setDefaultCluster } from "./client/client.ts";
import { dial } from "./comm/dial.ts";
import { dialWss } from "./comm/wss_dial.ts";
import { LocalCluster } from "./cluster/local.ts";

registerDialer("tcp", dial);
registerDialer("tls", dial);
registerDialer("inproc", dial);
// replaces the browser-safe wss:// dialer: this one trusts tls.caCerts per connection
registerDialer("wss", dialWss);
setDefaultCluster(() => LocalCluster.start());

export * from "./client/mod.ts";
export {
  type Adaptive,
  type AdaptOptions,
  LocalCluster,
  type LocalClusterOptions,
  type LocalWorkerInfo,
} from "./cluster/local.ts";
export {
  readSchedulerFile,
  schedulerAddressFromFile,
  type SchedulerFileContent,
  type SchedulerFileReadOptions,
} from "./cluster/scheduler_file.ts";
export { Scheduler, type SchedulerOptions } from "./scheduler/scheduler.ts";
export type { SchedulerConfig } from "./scheduler/state.ts";
export type { ClusterView, SemaphoreView, WorkerView } from "./dashboard/metrics.ts";
export { Worker, type WorkerOptions } from "./worker/worker.ts";
export type { MemoryConfig, MemoryOptions } from "./worker/memory_config.ts";
export { Nanny, type NannyOptions } from "./worker/nanny.ts";
export {
  getClient,
  getWorker,
  rejoin,
  secede,
  type TaskWorker,
  type TaskWorkerInfo,
} from "./client/in_task.ts";
export { progress, type ProgressOptions, type ProgressStream } from "./diagnostics/progress.ts";
export {
  performanceReport,
  type PerformanceReportOptions,
} from "./diagnostics/performance_report.ts";
