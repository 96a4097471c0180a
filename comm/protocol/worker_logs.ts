/**
 * The client's `get-worker-logs` request: each worker's last log lines, as Dask's
 * `get_worker_logs` returns them (`[level, message]` pairs, oldest first). Part of the
 * client-scheduler channel; the scheduler asks each worker with `worker-logs`.
 *
 * @module
 */
import { isNum, isObj, isStr, opt, strs } from "./fields.ts";
import { message, request, type Table } from "./spec.ts";

/** Ask for the log lines of `workers` (addresses or names; every worker when absent). */
export interface GetWorkerLogs {
  op: "get-worker-logs";
  id: number;
  workers?: string[];
}

/** Reply to `get-worker-logs`: lines by worker address (none from a worker that did not answer). */
export interface GetWorkerLogsReply {
  op: "get-worker-logs-reply";
  id: number;
  logs: Record<string, [string, string][]>;
}

/** A `[level, message]` pair of a worker's log. */
export function isLogLine(v: unknown): boolean {
  return Array.isArray(v) && v.length === 2 && isStr(v[0]) && isStr(v[1]);
}

function isLogsByWorker(v: unknown): boolean {
  if (!isObj(v)) return false;
  return Object.values(v).every((lines) => Array.isArray(lines) && lines.every(isLogLine));
}

/** The request, for the client's table. */
export const WORKER_LOGS_REQUESTS: Table<GetWorkerLogs, { "get-worker-logs": GetWorkerLogsReply }> =
  {
    "get-worker-logs": request<GetWorkerLogs, GetWorkerLogsReply>(
      "get-worker-logs-reply",
      (m) => {
        if (!isNum(m.id)) return "id";
        return opt(m.workers, strs) ? null : "workers";
      },
    ),
  };

/** The reply, for the scheduler's table. */
export const WORKER_LOGS_REPLIES: Table<GetWorkerLogsReply> = {
  "get-worker-logs-reply": message<GetWorkerLogsReply>((m) => {
    if (!isNum(m.id)) return "id";
    return isLogsByWorker(m.logs) ? null : "logs";
  }),
};
