import assert from "node:assert/strict";
import { tlsHandshakeError, wsDialError } from "../../comm/tls_errors.ts";
import { CommClosedError, TlsError } from "../../core/errors.ts";

const WSS = "wss://10.0.0.5:8788";

Deno.test("a browser's reasonless wss:// failure stays a CommClosedError, with the trust-store hint", () => {
  const e = new CommClosedError(`cannot connect to ${WSS}: the WebSocket to ${WSS} failed`);
  const got = wsDialError(WSS, e, { perConnectionCa: false });
  assert.ok(got instanceof CommClosedError && !(got instanceof TlsError));
  assert.match(got.message, /does not trust fails this way too: install the cluster's CA/);
  // a ws:// failure with no reason is left as it was
  const plain = new CommClosedError("cannot connect to ws://h:1: the WebSocket to ws://h:1 failed");
  assert.equal(wsDialError("ws://h:1", plain, { perConnectionCa: false }), plain);
});

Deno.test("wss:// reasons Deno gives become TlsErrors that say what to do", () => {
  const said = (why: string) => new CommClosedError(`cannot connect to ${WSS}: ${why}`);
  const name = wsDialError(WSS, said("invalid peer certificate: NotValidForName"), {
    perConnectionCa: true,
  });
  assert.ok(name instanceof TlsError);
  assert.match(name.message, /does not name that host/);
  const untrusted = said("invalid peer certificate: UnknownIssuer");
  assert.match(wsDialError(WSS, untrusted, { perConnectionCa: true }).message, /tls\.caCerts/);
  assert.match(
    wsDialError(WSS, untrusted, { perConnectionCa: false }).message,
    /DENO_CERT=ca\.pem or --cert ca\.pem/,
  );
  assert.match(tlsHandshakeError("tls://h:1", new Error("InvalidContentType")).message, /tcp:\/\//);
});
