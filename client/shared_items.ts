/**
 * Values in queues and variables, on the client side: a value put or set is encoded with the
 * keys of the Futures in it (the scheduler holds those keys while the value is kept); a value
 * taken comes back with Futures replaced by their values — the client adopts the keys, tells
 * the scheduler it holds them (so the scheduler's hold for the hand-over can end), gathers and
 * releases. Not public API. Browser-safe.
 *
 * @module
 */
import type { SharedItems } from "../comm/protocol.ts";
import { decodeValueAsync, encodeValueSoon, Payload } from "../comm/serialize.ts";
import { CancelledError, fromEnvelope } from "../core/errors.ts";
import type { Client } from "./client.ts";
import { callsOf } from "./client_calls_of.ts";
import { Future } from "./future.ts";

/**
 * `value` encoded for `client`, with the keys of the Futures in it. A Future of another
 * client, or one that was cancelled or erred, is refused with an error that says what to do.
 */
export async function encodeItem(
  client: Client,
  value: unknown,
  what: string,
): Promise<{ v: Payload; keys: string[] }> {
  const futures: Future[] = [];
  const deps = new Set<string>();
  const refKey = (o: object) => {
    if (!(o instanceof Future)) return undefined;
    futures.push(o);
    return o.key;
  };
  const soon = encodeValueSoon(value, { refKey, deps, path: `${what}: the value` });
  const v = soon instanceof Payload ? soon : await soon;
  for (const f of futures) checkFuture(client, f, what);
  return { v, keys: [...deps] };
}

function checkFuture(client: Client, f: Future, what: string): void {
  if (f.client !== client) {
    throw new TypeError(
      `${what}: the Future ${f.key} belongs to another client than this one: pass the client ` +
        `that made it ({ client }), or gather its value and pass that`,
    );
  }
  if (f.status === "cancelled" || f.status === "lost") {
    throw new CancelledError(
      `${what}: the Future ${f.key} was ${f.status}, there is no value to keep: submit the ` +
        `task again and pass the new Future`,
    );
  }
  if (f.status === "error") {
    throw new TypeError(
      `${what}: the Future ${f.key} erred, there is no value to keep: pass a Future that is ` +
        `pending or finished (look at the error with \`await future\`)`,
    );
  }
}

/**
 * The values of a reply (its error thrown): each decoded, with the Futures in it replaced by
 * their values. Their keys are adopted by `client` first and the scheduler told, after the
 * client's own want of them, that it took them.
 */
export async function takeItems(client: Client, r: SharedItems): Promise<unknown[]> {
  if (r.e) throw fromEnvelope(r.e);
  const handed = r.keys.flat();
  if (handed.length === 0) return await Promise.all(r.vs.map((v) => decodeValueAsync(v)));
  const calls = callsOf(client);
  const keys = [...new Set(handed)];
  const fs = calls.adopt(keys);
  try {
    calls.send({ op: "shared-keys-taken", keys: handed }); // goes after the adopt's want
    const values = await calls.gather(fs);
    const byKey = new Map(keys.map((k, i) => [k, values[i]]));
    return await Promise.all(r.vs.map((v) => decodeValueAsync(v, (k) => byKey.get(k))));
  } finally {
    for (const f of fs) f.release();
  }
}
