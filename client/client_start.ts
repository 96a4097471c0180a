/**
 * How a Client's start is made from its options: over a connection already open (`Client.connect`),
 * or over one that opens in the background (`getClient()` inside a task, usable at once).
 *
 * @module
 */
import { PendingTransport } from "../comm/pending_transport.ts";
import type { ClientStart } from "./client_parts.ts";
import { type ClientHello, dialSettings, type Opened, openSoon } from "./dialers.ts";
import type { ClientOptions, InTaskClientHooks } from "./options.ts";

/** The start of a Client over the connection `opened` (`Client.connect`). */
export function openedStart(opened: Opened, options: ClientOptions): ClientStart {
  return {
    transport: opened.transport,
    address: opened.shown,
    own: opened.own,
    via: opened.via,
    id: opened.id,
    dashboard: opened.dashboard,
    hello: { name: options.name ?? "client", token: options.authToken },
    dialing: opened.dialing,
    reconnectTimeout: options.reconnectTimeout,
    classInstances: options.classInstances,
  };
}

/**
 * The start of a Client whose connection to `address` (tcp://) opens in the background: its
 * messages go out once connected (getClient() inside a task, with the task's hooks).
 */
export function pendingStart(
  address: string,
  options: ClientOptions,
  inTask: InTaskClientHooks,
): ClientStart {
  const name = options.name ?? "client";
  const hello: ClientHello = { name, token: options.authToken };
  if (inTask.worker !== undefined) hello.inWorker = inTask.worker;
  const opening = openSoon(address, options, hello);
  return {
    transport: new PendingTransport(address, opening),
    opening,
    address,
    via: address,
    id: name,
    hello,
    dialing: dialSettings(options),
    reconnectTimeout: options.reconnectTimeout,
    classInstances: options.classInstances,
    inTask,
  };
}
