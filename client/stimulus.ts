/**
 * What a Client reacts to besides its user's calls: each message of its scheduler, its
 * connection opening, failing to open or closing, a welcome on reconnecting, the tick that
 * flushes its queue, and values fetched from workers. Async work posts these to the Client's one
 * `receive` (client_parts.ts) instead of changing its state from a continuation. Browser-safe.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import type { Message } from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";
import type { KeyState } from "./future.ts";

/** Every input of a Client's actor. */
export type ClientStimulus =
  /** A message of the scheduler (one reused object per connection). */
  | { kind: "message"; msg: Message | null }
  /** `conn` finished opening (its handshake succeeded). */
  | { kind: "opened"; conn: Connection }
  /** `conn` could not open; `reason` says why. */
  | { kind: "open-failed"; conn: Connection; reason: string }
  /** `conn` closed. */
  | { kind: "connection-closed"; conn: Connection; reason: string }
  /** A reconnect was welcomed; the scheduler may have given the client a new id. */
  | { kind: "welcome"; id: string | undefined; dashboard: string | undefined }
  /** The submission queue is due to be sent (posted once per turn that queued something). */
  | { kind: "flush" }
  /**
   * Values of `states` fetched from `worker` (none when it failed); the handler lists in
   * `missing` those that must be asked for again.
   */
  | {
    kind: "values-fetched";
    states: KeyState[];
    values: Record<string, Payload>;
    missing: KeyState[];
  };
