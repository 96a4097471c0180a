/**
 * Where the command lines and worker processes find their TLS material: files named by
 * `--tls-cert`, `--tls-key` and `--tls-ca-file`, read once at start; a nanny hands them to its
 * worker process in the environment (DTASK_TLS_CERT, DTASK_TLS_KEY, DTASK_TLS_CA), never on the
 * command line, which any local user can read (`ps`, /proc/<pid>/cmdline).
 *
 * @module
 */
import type { TlsOptions } from "./tls_options.ts";

/** The environment variables that carry TLS material to a worker process. */
export const TLS_CERT_ENV = "DTASK_TLS_CERT";
/** The private key's variable. */
export const TLS_KEY_ENV = "DTASK_TLS_KEY";
/** The CA certificates' variable (PEM, one after the other). */
export const TLS_CA_ENV = "DTASK_TLS_CA";

/** The certificates of a PEM bundle, one string each. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** The files the TLS flags name (each may be absent). */
export interface TlsFiles {
  cert?: string;
  key?: string;
  caFile?: string;
}

async function readPem(flag: string, file: string, label: RegExp): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new TypeError(`--${flag} ${file}: cannot read it (${(e as Error).message})`);
  }
  if (!label.test(text)) {
    throw new TypeError(`--${flag} ${file}: no PEM ${label.source.replace(/\\/g, "")} in it`);
  }
  return text;
}

/**
 * Reads the files of the TLS flags (none given: undefined). A file that is missing, unreadable
 * or not PEM, or a certificate without its key, throws a TypeError that says which.
 */
export async function readTlsFiles(files: TlsFiles): Promise<TlsOptions | undefined> {
  const { cert, key, caFile } = files;
  if (cert === undefined && key === undefined && caFile === undefined) return undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError(
      "--tls-cert and --tls-key go together: give the certificate and its private key",
    );
  }
  const tls: TlsOptions = {};
  if (cert !== undefined && key !== undefined) {
    tls.cert = await readPem("tls-cert", cert, /-----BEGIN [A-Z ]*CERTIFICATE-----/);
    tls.key = await readPem("tls-key", key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  }
  if (caFile !== undefined) {
    tls.caCerts = splitPem(await readPem("tls-ca-file", caFile, /-----BEGIN CERTIFICATE-----/));
  }
  return tls;
}

/** The environment that hands `tls` to a worker process. */
export function tlsEnv(tls: TlsOptions | undefined): Record<string, string> {
  if (tls === undefined) return {};
  const env: Record<string, string> = {};
  if (tls.cert) env[TLS_CERT_ENV] = tls.cert;
  if (tls.key) env[TLS_KEY_ENV] = tls.key;
  const ca = tls.caCerts === undefined ? [] : [tls.caCerts].flat();
  if (ca.length) env[TLS_CA_ENV] = ca.join("\n");
  return env;
}

/** The TLS options a nanny handed this worker process in its environment, if any. */
export function tlsFromEnv(): TlsOptions | undefined {
  const cert = Deno.env.get(TLS_CERT_ENV) || undefined;
  const key = Deno.env.get(TLS_KEY_ENV) || undefined;
  const ca = Deno.env.get(TLS_CA_ENV) || undefined;
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  return { cert, key, ...(ca !== undefined && { caCerts: splitPem(ca) }) };
}
