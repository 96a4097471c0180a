/**
 * TLS options, as LocalCluster, Scheduler, Worker and Client take them (`tls`), and their checks.
 * Browser-safe: types and string checks only.
 *
 * @module
 */

/**
 * TLS for every connection of a cluster: PEM strings. A listener (scheduler, worker) presents
 * `cert` with `key`; a dialler (client, worker, nanny) trusts the certificates in `caCerts` in
 * addition to the system's roots.
 */
export interface TlsOptions {
  /** The certificate chain (PEM) the scheduler and workers present; needs `key`. */
  cert?: string;
  /** The private key (PEM) of `cert`. */
  key?: string;
  /** CA certificates (PEM) to trust when dialling tls:// addresses, e.g. the cluster's own CA. */
  caCerts?: string | string[];
}

/** What a dialler needs of TlsOptions: the CA certificates it trusts. */
export interface TlsDialOptions {
  /** CA certificates (PEM) trusted besides the system's roots. */
  caCerts?: string[];
}

/** TlsOptions checked for a listener: both halves of its certificate, and the CAs as a list. */
export interface ListenerTls {
  cert: string;
  key: string;
  caCerts: string[];
}

function isPem(s: unknown, label: RegExp): s is string {
  return typeof s === "string" && label.test(s);
}

/** The CA certificates of `tls` as a list (none: an empty list), each checked to be PEM. */
export function caCertsOf(tls: TlsOptions | undefined, where = "tls"): string[] {
  const raw = tls?.caCerts;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  for (const ca of list) {
    if (!isPem(ca, /-----BEGIN CERTIFICATE-----/)) {
      throw new TypeError(
        `${where}.caCerts: expected PEM certificates ("-----BEGIN CERTIFICATE-----"), the ` +
          `contents of the CA file, not its path`,
      );
    }
  }
  return list;
}

/**
 * Checks TLS options that a listener (scheduler, worker) uses: a PEM certificate and its PEM
 * key are both needed. Throws a TypeError saying what is missing.
 */
export function checkListenerTls(tls: TlsOptions, where = "tls"): ListenerTls {
  if (!isPem(tls.cert, /-----BEGIN [A-Z ]*CERTIFICATE-----/)) {
    throw new TypeError(
      `${where}.cert: a scheduler or worker with TLS needs its certificate as a PEM string ` +
        `("-----BEGIN CERTIFICATE-----"), the contents of the file (--tls-cert), not its path`,
    );
  }
  if (!isPem(tls.key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/)) {
    throw new TypeError(
      `${where}.key: a scheduler or worker with TLS needs the certificate's private key as a ` +
        `PEM string ("-----BEGIN PRIVATE KEY-----"), the contents of the file (--tls-key)`,
    );
  }
  return { cert: tls.cert, key: tls.key, caCerts: caCertsOf(tls, where) };
}

/** What a dialler of `tls` passes to its dial: the CA certificates alone. */
export function dialTls(tls: TlsOptions | undefined): TlsDialOptions | undefined {
  if (tls === undefined) return undefined;
  return { caCerts: caCertsOf(tls) };
}
