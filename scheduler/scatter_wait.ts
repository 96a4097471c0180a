/**
 * A client's scatter request: where each value goes, decided at once when an allowed worker is
 * connected, else once one joins (a wait on the workers), or an error after its timeout.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import type { Scatter } from "../comm/protocol.ts";
import { CommClosedError, TimeoutError, toEnvelope } from "../core/errors.ts";
import type { SchedulerState } from "./state.ts";
import type { WorkerWaits } from "./worker_waits.ts";
import { announceScatter } from "./announce_scatter.ts";
import { SCATTER_WAIT_TIMEOUT } from "../comm/timeouts.ts";

/** What a scatter needs from the scheduler actor. */
export interface ScatterHost {
  readonly state: SchedulerState;
  readonly waits: WorkerWaits;
  /** The live connection of a worker, if any. */
  worker(address: string): Connection | undefined;
}

/** Plans `m` for `client`, waiting up to its timeout for an allowed worker to join. */
export function planScatter(host: ScatterHost, client: string, m: Scatter, conn: Connection) {
  const timeout = m.timeout ?? SCATTER_WAIT_TIMEOUT;
  const fail = (e: Error) => conn.send({ op: "scatter-plan", id: m.id, who: {}, e: toEnvelope(e) });
  host.waits.add({
    check() {
      const who = host.state.scatterPlan(client, m.keys, m.nbytes, m.workers, m.broadcast);
      if (who === null) return false;
      // the workers learn which keys to accept before the client learns where to send them
      void announceScatter(who, (a) => host.worker(a)).then(() =>
        conn.send({ op: "scatter-plan", id: m.id, who })
      );
      return true;
    },
    expire() {
      const where = m.workers?.length ? ` among ${m.workers.join(", ")}` : "";
      fail(
        new TimeoutError(
          `scatter: no worker${where} to hold the data within ${timeout} ms; start workers ` +
            `(or check the workers option) and scatter again`,
        ),
      );
    },
    cancel: () => fail(new CommClosedError("the scheduler is closing")),
  }, timeout);
}
