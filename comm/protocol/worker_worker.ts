/**
 * The worker–worker channel: a peer (another worker fetching dependencies, or a client
 * gathering or scattering) asks a worker for values or gives it values to keep.
 */
import type { Payload } from "../serialize.ts";
import { isNum, isPayload, strs, values } from "./fields.ts";
import { ACK, type Ack } from "./common.ts";
import { message, type OpSet, opsOf, request, type Table } from "./spec.ts";

/** Ask a peer for values. */
export interface GetData {
  op: "get-data";
  id: number;
  keys: string[];
}

/**
 * Values a peer holds; keys it does not hold are absent. A worker short of memory answers in
 * batches: `more` lists the keys it holds but left for another request. A paused worker that
 * is already sending answers `busy` (no values): ask again a little later, as Dask's
 * `retry_busy_worker_later`.
 */
export interface Data {
  op: "data";
  id: number;
  values: Record<string, Payload>;
  more?: string[];
  busy?: true;
}

/**
 * Client -> worker: keep these values (scattered data) until the scheduler frees them.
 * Refused as a whole unless the scheduler announced every key with `expect-data`.
 */
export interface PutData {
  op: "put-data";
  id: number;
  values: Record<string, Payload>;
}

/** What a peer asks a worker. */
export type PeerRequest = GetData | PutData;

/** Each request a peer sends a worker, and its reply. */
export interface PeerRequestReplies {
  "get-data": Data;
  "put-data": Ack;
}

/** What a worker answers a peer. */
export type PeerReply = Data | Ack;

/** What a peer may ask a worker. */
export const PEER_TO_WORKER: Table<PeerRequest, PeerRequestReplies> = {
  "get-data": request<GetData, Data>("data", (m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.keys) ? null : "keys";
  }),
  "put-data": request<PutData, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    return values(m.values, isPayload) ? null : "values";
  }),
};

/** What a worker answers a peer. */
export const WORKER_TO_PEER: Table<PeerReply> = {
  data: message<Data>((m) => {
    if (!isNum(m.id)) return "id";
    if (!values(m.values, isPayload)) return "values";
    if (m.more !== undefined && !strs(m.more)) return "more";
    return m.busy === undefined || m.busy === true ? null : "busy";
  }),
  ack: ACK,
};

/** Messages between peers. */
export type PeerMessage = PeerRequest | PeerReply;

/** Ops a peer may send a worker. */
export const PEER_REQUEST_OPS: OpSet<PeerRequest> = opsOf(PEER_TO_WORKER);
