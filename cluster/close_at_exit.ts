/**
 * A LocalCluster the program forgot to close is closed when the program has nothing left to do,
 * as Dask's finalizers close a forgotten cluster at interpreter exit. What the cluster holds
 * does not keep the program open (SchedulerOptions.keepAlive), so the program's event loop
 * empties; Deno then dispatches `beforeunload`, and the cluster closes (its worker processes
 * stop) with a one-line warning before the program exits.
 *
 * @module
 */

/** What `closeAtExit` closes. */
export interface Closable {
  readonly schedulerAddress: string;
  close(): Promise<void>;
}

/** Closes `cluster` at the program's end unless it was closed; returns how to stop watching. */
export function closeAtExit(cluster: Closable, closed: () => boolean): () => void {
  const onUnload = (e: { preventDefault(): void }): void => {
    if (closed()) return stop();
    e.preventDefault(); // the program goes on until the cluster is closed
    stop();
    console.warn(
      `dtask: the LocalCluster at ${cluster.schedulerAddress} was not closed; closing it now. ` +
        "Start it with `await using cluster = await LocalCluster.start(…)` (and a Client with " +
        "`await using client = …`), or call close(), to close it yourself.",
    );
    void cluster.close();
  };
  const stop = () => removeEventListener("beforeunload", onUnload);
  addEventListener("beforeunload", onUnload);
  return stop;
}
