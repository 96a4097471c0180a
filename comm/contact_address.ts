/**
 * The address a TCP listener advertises: what peers are told to dial. A listener bound to a
 * wildcard host (0.0.0.0, ::) accepts on every interface, but `tcp://0.0.0.0:…` is no address
 * another machine can dial; it advertises this host's first non-loopback IPv4 address instead
 * (127.0.0.1 when there is none), or the contact address it was given (Dask's
 * `--contact-address`, for NAT and containers).
 *
 * @module
 */
import { parseAddress } from "./transport.ts";

/** Whether `host` means "every interface". */
export function isWildcardHost(host: string): boolean {
  return /^(0\.0\.0\.0|::|\[::\]|)$/.test(host);
}

/** Whether `host` is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return /^(127\.|localhost$|::1$|\[::1\]$)/.test(host);
}

/** One network interface, as `Deno.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  family: "IPv4" | "IPv6";
  address: string;
}

/** This host's first non-loopback IPv4 address, or 127.0.0.1 when it has none. */
export function reachableHost(interfaces?: InterfaceAddress[]): string {
  let list = interfaces;
  if (list === undefined) {
    try {
      list = typeof Deno === "undefined" ? [] : Deno.networkInterfaces();
    } catch { // no --allow-sys
      list = [];
    }
  }
  return list.find((i) => i.family === "IPv4" && !isLoopbackHost(i.address))?.address ??
    "127.0.0.1";
}

/**
 * Checks a contact address (`tcp://host:port`, `tcp://host`, `host:port` or `host`; tls:// too) and splits
 * it; throws a TypeError saying what is expected.
 */
export function parseContactAddress(contact: string): { host: string; port?: number } {
  let parsed;
  try {
    parsed = parseAddress(contact);
  } catch {
    parsed = undefined;
  }
  if (
    !parsed || (parsed.scheme !== "tcp" && parsed.scheme !== "tls") ||
    /^((tcp|tls):\/\/)?$/.test(contact) ||
    isWildcardHost(parsed.host)
  ) {
    throw new TypeError(
      `contact address ${JSON.stringify(contact)} is not an address peers can dial: give ` +
        `tcp://host, tcp://host:port, host or host:port with this machine's reachable host`,
    );
  }
  const bare = contact.replace(/^(tcp|tls):\/\//, "").replace(/^\[[^\]]*\]/, "");
  const hasPort = /:\d+\/?$/.test(bare);
  return hasPort ? { host: parsed.host, port: parsed.port } : { host: parsed.host };
}

/**
 * The address to advertise for a listener at `listenAddress` (`tcp://` or `tls://host:port`): the
 * `contactAddress` when given (its port, or the listener's when it names none); for a wildcard
 * host, this machine's reachable host; else the listen address itself.
 */
export function advertisedAddress(
  listenAddress: string,
  contactAddress?: string,
  interfaces?: InterfaceAddress[],
): string {
  const listen = parseAddress(listenAddress);
  if (listen.scheme !== "tcp" && listen.scheme !== "tls") return listenAddress;
  // the listener's scheme: a TLS listener is dialled with tls:// whatever the contact says
  const show = (host: string, port: number) =>
    `${listen.scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (contactAddress !== undefined) {
    const contact = parseContactAddress(contactAddress);
    return show(contact.host, contact.port ?? listen.port);
  }
  if (isWildcardHost(listen.host)) return show(reachableHost(interfaces), listen.port);
  return listenAddress;
}
