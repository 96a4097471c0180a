/**
 * What the server-rendered dashboard pages show, as plain data the scheduler hands them
 * (scheduler/dashboard_source.ts builds it). Pure types.
 *
 * @module
 */
import type { FeedWorker } from "../feed_protocol.ts";

/** A worker on the workers page. */
export interface WorkerRow extends FeedWorker {
  /** Its process's CPU use over its last heartbeat interval (percent of one core). */
  cpu: number;
}

/** A task that erred, on the exceptions page. */
export interface ErredRow {
  key: string;
  worker: string;
  /** When it stopped (ms since the epoch). */
  time: number;
  name: string;
  message: string;
}

/** A task and the tasks it is linked to (key and state). */
export interface TaskLink {
  key: string;
  state: string;
}

/** A task's page. */
export interface TaskInfo {
  key: string;
  state: string;
  prefix: string;
  dependencies: TaskLink[];
  dependents: TaskLink[];
  /** Workers holding its value. */
  whoHas: string[];
  processingOn: string | null;
  /** Clients that want it. */
  wantedBy: string[];
  /** Its value's size (bytes; -1: never computed). */
  nbytes: number;
  error: { name: string; message: string } | null;
  /** The task whose error it carries, if it erred because of another. */
  blame: string | null;
}
