/**
 * A client's way back to its scheduler after the connection dropped: dial again with
 * backoff until the handshake succeeds or the reconnect timeout passes. Browser-safe (no Deno).
 *
 * @module
 */
import { type Dialer, sendHello } from "../comm/handshake.ts";
import type { FunctionDef, Hello, TaskSpec, UpdateGraph, Welcome } from "../comm/protocol.ts";
import type { KeyState } from "./future.ts";
import type { Transport } from "../comm/transport.ts";
import { CommClosedError, WrongRoleError } from "../core/errors.ts";
import { Backoff, type BackoffOptions, pause } from "../core/backoff.ts";

/** Delays between reconnect attempts: 50 ms doubling to 2 s. */
const RECONNECT_BACKOFF: BackoffOptions = { initial: 50, max: 2000, jitter: 0 };

/** What `reconnect` needs to know. */
export interface ReconnectOptions {
  dial: Dialer;
  address: string;
  /** The hello to send (with `resume` set to the client's previous id). */
  hello: Omit<Hello, "op" | "version">;
  /** Give up after this long (ms). */
  timeout: number;
  /** Aborted when the client closes meanwhile. */
  signal: AbortSignal;
  /** Called with the welcome once connected again. */
  onWelcome: (w: Welcome) => void;
}

/**
 * The update-graph a reconnected client sends first: every pending key wanted again, with the
 * task and function of each it submitted, and before them the tasks of the finished or
 * released keys they depend on (a replaced scheduler computes those again); null when nothing
 * is pending. `keys` (the client's keys) are in submission order, so a pending key's pending
 * dependencies come before it.
 */
export function pendingGraph(
  keys: Iterable<KeyState>,
  fnDefs: Map<string, FunctionDef>,
): UpdateGraph | null {
  const tasks: TaskSpec[] = [];
  const wanted: string[] = [];
  const fns = new Map<string, FunctionDef>();
  const own = new Set(keys);
  const sent = new Set<KeyState>();
  const add = (ks: KeyState) => {
    sent.add(ks);
    tasks.push(ks.spec!);
    const def = fnDefs.get(ks.spec!.f);
    if (def) fns.set(def.h, def);
  };
  // dependencies a new scheduler would not get otherwise: settled, or no longer the client's
  const lineageOnly = (d: KeyState) =>
    d.spec !== null && !sent.has(d) && (d.settled || !own.has(d));
  for (const ks of own) {
    if (ks.settled) continue;
    wanted.push(ks.key);
    // post-order over the lineage without recursion: dependencies before dependents
    const stack: [KeyState, number][] = [[ks, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const deps = top[0].lineage;
      if (deps && top[1] < deps.length) {
        const d = deps[top[1]++];
        if (lineageOnly(d)) stack.push([d, 0]);
        continue;
      }
      stack.pop();
      if (top[0] !== ks && lineageOnly(top[0])) add(top[0]);
    }
    if (ks.spec && !sent.has(ks)) add(ks);
  }
  if (wanted.length === 0) return null;
  return { op: "update-graph", tasks, wanted, functions: [...fns.values()] };
}

/**
 * Dials and says hello until it works (with RECONNECT_BACKOFF between attempts); rejects with
 * CommClosedError once `timeout` passes or `signal` aborts, naming the last failure, and at once
 * with the WrongRoleError of an address that answers as something other than a scheduler.
 */
export async function reconnect(o: ReconnectOptions): Promise<Transport> {
  const deadline = Date.now() + o.timeout;
  const backoff = new Backoff(RECONNECT_BACKOFF);
  let last = "";
  while (!o.signal.aborted) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const t = await o.dial(o.address);
      try {
        o.onWelcome(await sendHello(t, o.hello, Math.max(left, 1000)));
        if (!o.signal.aborted) return t;
        t.close();
        break;
      } catch (e) {
        t.close();
        throw e;
      }
    } catch (e) {
      if (e instanceof WrongRoleError) throw e; // the address answers as something else now
      last = (e as Error)?.message ?? String(e);
    }
    await pause(Math.min(backoff.next(), Math.max(0, deadline - Date.now())), o.signal);
  }
  throw new CommClosedError(
    o.signal.aborted
      ? "the client closed while reconnecting"
      : `could not reconnect to the scheduler at ${o.address} within ${o.timeout} ms` +
        (last ? ` (last attempt: ${last})` : "") + "; is the scheduler running?",
  );
}

/** The parts of a client's submission queue that a reconnect resets. */
export interface SentFunctions {
  /** Every function the client sent, by hash. */
  readonly fnDefs: Map<string, FunctionDef>;
  /** Function hashes sent on the current connection. */
  readonly sentFns: Set<string>;
}

/**
 * First on a new connection: every pending task again (the scheduler skips the ones it knows;
 * a message lost with the old connection, or a new scheduler, loses nothing).
 */
export function resendPending(
  send: (graph: UpdateGraph) => void,
  keys: Iterable<KeyState>,
  queue: SentFunctions,
): void {
  const graph = pendingGraph(keys, queue.fnDefs);
  queue.sentFns.clear(); // a new scheduler knows none of them
  for (const f of graph?.functions ?? []) queue.sentFns.add(f.h);
  if (graph) send(graph);
}
