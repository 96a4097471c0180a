/**
 * What the live dashboard's WebSocket (`<prefix>/ws`) carries from the scheduler to the page: a
 * snapshot when the page connects, then at most about five updates a second while anything
 * changes, each one JSON text message. Task-stream entries go in compact columns, never one
 * message per task. The page (dashboard/assets/) and the scheduler's feed (dashboard/feed.ts)
 * both follow these shapes. Pure types: no I/O.
 *
 * @module
 */

/** One worker as the page shows it. */
export interface FeedWorker {
  address: string;
  name: string;
  nthreads: number;
  /** Bytes it may use (0: no limit). */
  memoryLimit: number;
  /** Its memory: managed, unmanaged and spilled bytes, and its process memory (RSS). */
  memory: { managed: number; unmanaged: number; spilled: number; rss: number };
  status: "running" | "paused" | "closing";
  /** Tasks assigned to it and not finished. */
  processing: number;
  /** Keys whose values it holds. */
  stored: number;
  /** Milliseconds since its last heartbeat. */
  lastSeen: number;
}

/** Tasks of one prefix (`slowinc` for `slowinc-<hash>`), by the state they are in. */
export interface FeedProgress {
  waiting: number;
  queued: number;
  processing: number;
  memory: number;
  erred: number;
  /** Released and forgotten ones that had finished: the done part of the bar. */
  released: number;
}

/**
 * Task-stream entries since the previous message, as columns of equal length: entry i ran on
 * worker `workers[worker[i]]`, thread `thread[i]`, for a task of prefix `prefixes[prefix[i]]`,
 * from `origin + start[i]` to `origin + stop[i]` (ms since the epoch; the columns hold times
 * relative to `origin`, to the microsecond, so that each number is a few characters); `kind[i]`:
 * 0 compute, 1 erred, 2 transfer, 3 disk-write, 4 disk-read. `workers` and `prefixes` are the
 * message's own tables. An entry may be a run of tasks of one prefix and kind that ran back to
 * back on the thread (less than `STREAM_MERGE_GAP` of dashboard/feed.ts apart): at thousands of
 * tasks a second, a few entries per thread and message.
 */
export interface FeedStream {
  /** ms since the epoch that `start` and `stop` count from (the message's time). */
  origin: number;
  workers: string[];
  prefixes: string[];
  worker: number[];
  thread: number[];
  prefix: number[];
  start: number[];
  stop: number[];
  kind: number[];
}

/** The kinds of task-stream entries, by their number in `FeedStream.kind`. */
export { STREAM_KINDS } from "../comm/protocol/stream_kinds.ts";

/** What the page is told about the scheduler once. */
export interface FeedIdentity {
  address: string;
  /** The scheduler's id and version. */
  id: string;
  version: string;
  /** ms since the epoch when it started. */
  started: number;
}

/** Sent when the page connects: everything it needs to draw. */
export interface FeedSnapshot {
  type: "snapshot";
  identity: FeedIdentity;
  /** ms since the epoch. */
  time: number;
  counts: Record<string, number>;
  clients: number;
  workers: FeedWorker[];
  progress: Record<string, FeedProgress>;
  /** The recent task stream (up to a few thousand entries). */
  stream: FeedStream;
}

/** Sent at most ~5 times a second while anything changed. */
export interface FeedUpdate {
  type: "update";
  time: number;
  counts: Record<string, number>;
  clients: number;
  workers: FeedWorker[];
  /** Prefixes whose counts changed since the previous message (all of each one's counts). */
  progress: Record<string, FeedProgress>;
  /** Entries since the previous message. */
  stream: FeedStream;
}

/** A message of the dashboard's WebSocket. */
export type FeedMessage = FeedSnapshot | FeedUpdate;

/**
 * The time between two updates while anything changes (ms): as often as the page draws
 * (dashboard/assets/dashboard.js), each message costing the browser a wake-up and the
 * scheduler a tick.
 */
export const FEED_INTERVAL = 200;
