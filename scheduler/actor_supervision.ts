/**
 * Supervised actors: when the worker holding an actor's instance dies, the actor is re-created
 * on another worker while it has re-creations left (`actorRestarts`, like Ray's
 * `max_restarts`), and its key errs otherwise ("the worker holding this actor was lost", as
 * Dask). Its key leaves every worker holding a copy of it: a copy of the handle elsewhere is no
 * instance. Membership calls this for the leaving worker before it handles the rest of its
 * data, so actors are never recomputed as lost data. Pure: no I/O, no timers.
 *
 * @module
 */
import { ActorLostError, toEnvelope } from "../core/errors.ts";
import type { GraphState } from "./graph_state.ts";
import type { WorkerState } from "./task_state.ts";
import type { TransitionEngine } from "./transitions.ts";

/** The records supervision reads and changes. */
export type SupervisionRecords = Pick<GraphState, "actors" | "needed" | "out">;

/** What a leaving worker's actors need from supervision (membership calls it). */
export interface ActorSupervisor {
  /** Worker `ws` is leaving (`reason`): the actors it holds are re-created, or err. */
  workerRemoved(ws: WorkerState, reason: string): void;
}

/** Re-creates or fails the actors of workers that leave. */
export class ActorSupervision implements ActorSupervisor {
  constructor(
    readonly records: SupervisionRecords,
    readonly engine: Pick<TransitionEngine, "recommendOne" | "toReleased">,
  ) {}

  workerRemoved(ws: WorkerState, reason: string): void {
    const g = this.records;
    if (g.actors.size === 0) return;
    for (const ts of g.actors.heldOn(ws.address)) {
      if (ts.state !== "memory") continue;
      const r = g.actors.get(ts)!;
      const needed = g.needed(ts);
      const restart = needed && r.restarts > 0;
      if (restart) {
        r.restarts--;
        g.actors.restarting(ts, ws.address);
        g.out.event(
          "actors",
          `re-creating actor ${ts.key} (lost with ${ws.address}: ${reason}); ` +
            `${r.restarts} re-creations left`,
        );
      }
      // the leaving worker's copy goes with it (it is told nothing); every other copy of the
      // key goes too, since a copy of the handle elsewhere is no instance
      ts.whoHas!.delete(ws);
      ws.hasWhat.delete(ts);
      ws.nbytes -= ts.nbytes;
      this.engine.toReleased(ts);
      if (restart) this.engine.recommendOne(ts, "waiting");
      else if (needed) {
        ts.exception = toEnvelope(
          new ActorLostError(
            `the worker holding this actor was lost: actor ${ts.key} lived on ${ws.address}, ` +
              `which left (${reason}), and its state with it; an actor is not recomputed ` +
              `unless submitted with actorRestarts`,
          ),
        );
        delete ts.exception.stack; // it says nothing about where: the message does
        ts.blame = ts;
        this.engine.recommendOne(ts, "erred");
      }
    }
  }
}
