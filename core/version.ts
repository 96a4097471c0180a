/** dtask's version, as deno.json says, for the dashboard and identity.json. */
import denoJson from "../deno.json" with { type: "json" };

/** dtask's version. */
export const DTASK_VERSION: string = denoJson.version;
