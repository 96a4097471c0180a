import assert from "node:assert/strict";
import { decodeValue, encodeValue, handleMissed } from "../../comm/serialize.ts";
import { HANDLE, registerHandle, type Travelling } from "../../comm/value_handles.ts";
import { SerializationError } from "../../core/errors.ts";

class Named implements Travelling {
  constructor(readonly name: string, readonly revived = false) {}
  [HANDLE](): [string, unknown] {
    return ["test-named", { name: this.name }];
  }
}

class Unregistered implements Travelling {
  [HANDLE](): [string, unknown] {
    return ["test-never-registered", 1];
  }
}

Deno.test("a handle travels by its tag and data and is revived by its kind's reviver", () => {
  registerHandle("test-named", (d) => new Named((d as { name: string }).name, true));
  const back = decodeValue(encodeValue({ a: [new Named("x")], b: 2 })) as {
    a: Named[];
    b: number;
  };
  assert.ok(back.a[0] instanceof Named);
  assert.equal(back.a[0].name, "x");
  assert.equal(back.a[0].revived, true);
  assert.equal(back.b, 2);
  assert.equal(handleMissed(), false);
});

Deno.test("a handle whose kind is not registered fails to decode and says so", () => {
  const p = encodeValue([new Unregistered()]);
  assert.throws(() => decodeValue(p), (e: Error) => {
    assert.ok(e instanceof SerializationError);
    assert.match(e.message, /test-never-registered handle/);
    return true;
  });
  assert.equal(handleMissed(), true);
  decodeValue(encodeValue(1));
  assert.equal(handleMissed(), false);
});
