// The worker's I/O stream: entries pile up as columns, leave in one batch, and past its
// capacity the oldest are dropped. The batch is a valid `io-stream` message.
import assert from "node:assert/strict";
import { IoStream } from "../../worker/io_stream.ts";
import {
  STREAM_DISK_READ as IO_DISK_READ,
  STREAM_DISK_WRITE as IO_DISK_WRITE,
  STREAM_TRANSFER as IO_TRANSFER,
} from "../../comm/protocol/stream_kinds.ts";
import { validateMessage } from "../../comm/protocol.ts";

Deno.test("an empty I/O stream sends nothing", () => {
  assert.equal(new IoStream(4).take(), null);
});

Deno.test("I/O entries leave as one batch of columns, oldest first, and the stream empties", () => {
  const io = new IoStream(8);
  io.add(IO_TRANSFER, 10, 12, 1024, 3, "tcp://a:1");
  io.add(IO_DISK_WRITE, 11, 15, 512);
  io.add(IO_DISK_READ, 20, 19, 512); // a clock step back: never a negative span
  assert.equal(io.size, 3);
  const batch = io.take()!;
  assert.deepEqual(batch, {
    op: "io-stream",
    kind: [2, 3, 4],
    start: [10, 11, 20],
    stop: [12, 15, 20],
    nbytes: [1024, 512, 512],
    keys: [3, 1, 1],
    source: ["tcp://a:1", "", ""],
  });
  assert.equal(validateMessage(batch), batch);
  assert.equal(io.size, 0);
  assert.equal(io.take(), null);
  io.add(IO_TRANSFER, 30, 31, 1, 1, "tcp://b:1");
  assert.deepEqual(io.take()!.start, [30]);
});

Deno.test("a full I/O stream drops its oldest entries and counts them", () => {
  const io = new IoStream(3);
  for (let i = 0; i < 7; i++) io.add(IO_DISK_WRITE, i, i + 1, i);
  assert.equal(io.size, 3);
  assert.equal(io.dropped, 4);
  assert.deepEqual(io.take()!.start, [4, 5, 6]);
  io.add(IO_DISK_READ, 100, 101, 1);
  assert.deepEqual(io.take()!.kind, [IO_DISK_READ]);
});
