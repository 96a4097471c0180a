/**
 * The scheduler's diagnostic questions to a worker, and their answers: its story of task keys
 * (for the client's `story`) and its last log lines (`getWorkerLogs`, the dashboard's worker
 * page). Part of the worker-scheduler channel.
 *
 * @module
 */
import { each, isNum, strs } from "./fields.ts";
import { isStoryEvent, type StoryEvent } from "./story.ts";
import { isLogLine } from "./worker_logs.ts";
import { message, request, type Table } from "./spec.ts";

/** The worker's story of task keys (what its stimulus log holds), for the client's `story`. */
export interface WorkerStory {
  op: "worker-story";
  id: number;
  keys: string[];
}

/** Reply to `worker-story`: the worker's entries, oldest first. */
export interface WorkerStoryReply {
  op: "worker-story-reply";
  id: number;
  events: StoryEvent[];
}

/** The worker's last log lines (Dask's `get_worker_logs`), for the client and the dashboard. */
export interface WorkerLogs {
  op: "worker-logs";
  id: number;
}

/** Reply to `worker-logs`: `[level, message]` pairs, oldest first (level "INFO", "WARNING"...). */
export interface WorkerLogsReply {
  op: "worker-logs-reply";
  id: number;
  lines: [string, string][];
}

/** The scheduler's diagnostic requests to a worker. */
export const WORKER_DIAGNOSTIC_REQUESTS: Table<
  WorkerStory | WorkerLogs,
  { "worker-story": WorkerStoryReply; "worker-logs": WorkerLogsReply }
> = {
  "worker-story": request<WorkerStory, WorkerStoryReply>("worker-story-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.keys) ? null : "keys";
  }),
  "worker-logs": request<WorkerLogs, WorkerLogsReply>(
    "worker-logs-reply",
    (m) => isNum(m.id) ? null : "id",
  ),
};

/** A worker's answers to them. */
export const WORKER_DIAGNOSTIC_REPLIES: Table<WorkerStoryReply | WorkerLogsReply> = {
  "worker-story-reply": message<WorkerStoryReply>((m) => {
    if (!isNum(m.id)) return "id";
    return each(m.events, isStoryEvent) ? null : "events";
  }),
  "worker-logs-reply": message<WorkerLogsReply>((m) => {
    if (!isNum(m.id)) return "id";
    return each(m.lines, isLogLine) ? null : "lines";
  }),
};
