/**
 * Locks and semaphores on the client–scheduler channel: a lease (an id the client chose, one per
 * acquire) asks for named locks (`Lock`: one name; `MultiLock`: several, all or any `n` of them)
 * or for a lease of a named semaphore, waiting up to `timeout` ms (absent: until granted; 0: try
 * once); gives them back; and asks what is held. The client–scheduler tables include these two.
 */
import type { ErrorEnvelope } from "../../core/errors.ts";
import { isBool, isNat, isNum, isSize, isStr, opt, optEnvelope, strs } from "./fields.ts";
import { message, request, type Table } from "./spec.ts";

/** Take `n` (default all) of the locks `names` under lease `lease`. */
export interface LockAcquire {
  op: "lock-acquire";
  id: number;
  lease: string;
  names: string[];
  n?: number;
  /** ms to wait (absent: until granted; 0: try once). */
  timeout?: number;
}

/** Give back what lease `lease` holds, or stop its waiting. */
export interface LockRelease {
  op: "lock-release";
  id: number;
  lease: string;
}

/** How many of the locks `names` are held now. */
export interface LockHeld {
  op: "lock-held";
  id: number;
  names: string[];
}

/** Reply to `lock-held`. */
export interface LockHeldReply {
  op: "lock-held-reply";
  id: number;
  held: number;
}

/** Take one lease of semaphore `name` (of `max` leases) under lease `lease`. */
export interface SemaphoreAcquire {
  op: "semaphore-acquire";
  id: number;
  name: string;
  max: number;
  lease: string;
  /** ms to wait (absent: until granted; 0: try once). */
  timeout?: number;
}

/** Give back lease `lease` of a semaphore, or stop its waiting. */
export interface SemaphoreRelease {
  op: "semaphore-release";
  id: number;
  lease: string;
}

/** How many leases of semaphore `name` (of `max` leases) are held now. */
export interface SemaphoreValue {
  op: "semaphore-value";
  id: number;
  name: string;
  max: number;
}

/** Reply to `semaphore-value`, or the error `e`. */
export interface SemaphoreValueReply {
  op: "semaphore-value-reply";
  id: number;
  value: number;
  e?: ErrorEnvelope;
}

/**
 * Reply to an acquire (`ok`: granted; false: timed out or refused) or a release (`ok`: the lease
 * held something or was waiting), or the error `e`.
 */
export interface LeaseReply {
  op: "lease-reply";
  id: number;
  ok: boolean;
  e?: ErrorEnvelope;
}

/** Client requests about locks and semaphores. */
export type LockRequestMessage =
  | LockAcquire
  | LockRelease
  | LockHeld
  | SemaphoreAcquire
  | SemaphoreRelease
  | SemaphoreValue;

/** Each one's reply. */
export interface LockReplies {
  "lock-acquire": LeaseReply;
  "lock-release": LeaseReply;
  "lock-held": LockHeldReply;
  "semaphore-acquire": LeaseReply;
  "semaphore-release": LeaseReply;
  "semaphore-value": SemaphoreValueReply;
}

/** The scheduler's replies about locks and semaphores. */
export type LockReplyMessage = LeaseReply | LockHeldReply | SemaphoreValueReply;

const isNames = (v: unknown) => strs(v) && (v as string[]).length > 0;
const isCount = (v: unknown) => isNat(v) && (v as number) >= 1;

/** What a client may ask the scheduler about locks and semaphores. */
export const LOCK_REQUESTS: Table<LockRequestMessage, LockReplies> = {
  "lock-acquire": request<LockAcquire, LeaseReply>("lease-reply", (m) => {
    if (!isNum(m.id)) return "id";
    if (!isStr(m.lease)) return "lease";
    if (!isNames(m.names)) return "names";
    if (!opt(m.n, isCount)) return "n";
    return opt(m.timeout, isSize) ? null : "timeout";
  }),
  "lock-release": request<LockRelease, LeaseReply>("lease-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return isStr(m.lease) ? null : "lease";
  }),
  "lock-held": request<LockHeld, LockHeldReply>("lock-held-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return isNames(m.names) ? null : "names";
  }),
  "semaphore-acquire": request<SemaphoreAcquire, LeaseReply>("lease-reply", (m) => {
    if (!isNum(m.id)) return "id";
    if (!isStr(m.name)) return "name";
    if (!isCount(m.max)) return "max";
    if (!isStr(m.lease)) return "lease";
    return opt(m.timeout, isSize) ? null : "timeout";
  }),
  "semaphore-release": request<SemaphoreRelease, LeaseReply>("lease-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return isStr(m.lease) ? null : "lease";
  }),
  "semaphore-value": request<SemaphoreValue, SemaphoreValueReply>(
    "semaphore-value-reply",
    (m) => {
      if (!isNum(m.id)) return "id";
      if (!isStr(m.name)) return "name";
      return isCount(m.max) ? null : "max";
    },
  ),
};

/** The scheduler's replies about locks and semaphores. */
export const LOCK_REPLIES: Table<LockReplyMessage> = {
  "lease-reply": message<LeaseReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!isBool(m.ok)) return "ok";
    return optEnvelope(m.e) ? null : "e";
  }),
  "lock-held-reply": message<LockHeldReply>((m) => {
    if (!isNum(m.id)) return "id";
    return isNat(m.held) ? null : "held";
  }),
  "semaphore-value-reply": message<SemaphoreValueReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!isNat(m.value)) return "value";
    return optEnvelope(m.e) ? null : "e";
  }),
};
