/**
 * Where the command lines and worker processes find the auth token: a file (`--auth-token-file`)
 * or the environment variable DTASK_AUTH_TOKEN, never the command line, which any local user can
 * read (`ps`, /proc/<pid>/cmdline).
 *
 * @module
 */

/** The environment variable that carries the auth token (to worker processes too). */
export const AUTH_TOKEN_ENV = "DTASK_AUTH_TOKEN";

/**
 * The token in `file` (trimmed), else in DTASK_AUTH_TOKEN (empty counts as unset), else
 * undefined. Throws a TypeError for an empty file, which would silently turn authentication off.
 */
export async function readAuthToken(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return Deno.env.get(AUTH_TOKEN_ENV)?.trim() || undefined;
  const token = (await Deno.readTextFile(file)).trim();
  if (token === "") {
    throw new TypeError(`the token file ${file} is empty: put the auth token in it`);
  }
  return token;
}
