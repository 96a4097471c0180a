/**
 * The client's `story` request: what the scheduler's stimulus log holds about task keys, workers
 * and stimulus ids (Dask's `story`). Part of the client-scheduler channel.
 */
import { each, isNum, isObj, isStr, optStr, strs } from "./fields.ts";
import { message, request, type Table } from "./spec.ts";

/**
 * Ask for the story of task keys and workers (addresses or names), or of stimulus ids: what
 * the scheduler's log holds about them (Dask's `story`).
 */
export interface Story {
  op: "story";
  id: number;
  keys: string[];
}

/**
 * One entry of a story: a task's transition (`key`, `start`, `finish`, and the `worker` it went
 * to) or a worker's event (`worker`, `event`, `reason`), with the stimulus that caused it and
 * when it happened (ms since the epoch).
 */
export interface StoryEvent {
  /** When it happened, in ms since the epoch. */
  time: number;
  /** The stimulus that caused it, e.g. `task-finished-20`. */
  stimulusId: string;
  /** The scheduler's stimulus that caused a worker's (a worker's entries only). */
  cause?: string;
  /** The task's key (transitions). */
  key?: string;
  /** The worker it went to, or the worker of the event. */
  worker?: string;
  /** The state it left (transitions). */
  start?: string;
  /** The state it reached (transitions). */
  finish?: string;
  /** What happened to the worker (`added`, `removed`, `paused`, `running`). */
  event?: string;
  /** Why (worker events). */
  reason?: string;
}

/** Reply to `story`: the entries, oldest first. */
export interface StoryReply {
  op: "story-reply";
  id: number;
  events: StoryEvent[];
}

/** A story entry as it arrives: every field of its type, strings where a string goes. */
export function isStoryEvent(v: unknown): boolean {
  if (!isObj(v) || !isNum(v.time) || !isStr(v.stimulusId)) return false;
  return optStr(v.cause) && optStr(v.key) && optStr(v.worker) && optStr(v.start) &&
    optStr(v.finish) &&
    optStr(v.event) && optStr(v.reason);
}

/** The story request, for the client's table. */
export const STORY_REQUESTS: Table<Story, { story: StoryReply }> = {
  story: request<Story, StoryReply>("story-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.keys) ? null : "keys";
  }),
};

/** The story reply, for the scheduler's table. */
export const STORY_REPLIES: Table<StoryReply> = {
  "story-reply": message<StoryReply>((m) => {
    if (!isNum(m.id)) return "id";
    return each(m.events, isStoryEvent) ? null : "events";
  }),
};
