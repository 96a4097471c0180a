/** IndexedHeap and priorityLess: ordering, removal of any item, and the stored index. */
import assert from "node:assert/strict";
import { type HeapItem, IndexedHeap, priorityLess } from "../../core/heap.ts";

interface Item extends HeapItem {
  id: number;
  p: number[];
}

const item = (id: number, ...p: number[]): Item => ({ id, p, heapIndex: -1 });
const heap = () => new IndexedHeap<Item>((a, b) => priorityLess(a.p, b.p));

/** Every item knows its position, and no parent is greater than its child. */
function check(h: IndexedHeap<Item>): void {
  const items = [...h.values()];
  assert.equal(items.length, h.size);
  items.forEach((x, i) => {
    assert.equal(x.heapIndex, i, `item ${x.id} at ${i} thinks it is at ${x.heapIndex}`);
    if (i > 0) assert.ok(!priorityLess(x.p, items[(i - 1) >> 1].p), `heap order broken at ${i}`);
  });
}

function drain(h: IndexedHeap<Item>): number[] {
  const out: number[] = [];
  for (let x = h.pop(); x !== undefined; x = h.pop()) {
    assert.equal(x.heapIndex, -1);
    out.push(x.id);
    check(h);
  }
  return out;
}

Deno.test("priorityLess: lexicographic, lower runs first; a prefix comes first", () => {
  assert.equal(priorityLess([0, 1], [0, 2]), true);
  assert.equal(priorityLess([0, 2], [0, 1]), false);
  assert.equal(priorityLess([-5, 9], [0, 1]), true, "user priority first");
  assert.equal(priorityLess([1, 1], [1, 1]), false, "equal is not less");
  assert.equal(priorityLess([1], [1, 0]), true);
  assert.equal(priorityLess([1, 0], [1]), false);
  assert.equal(priorityLess([], []), false);
  assert.equal(priorityLess([0, 1, -0.01], [0, 1, 0]), true);
});

Deno.test("an empty heap", () => {
  const h = heap();
  assert.equal(h.size, 0);
  assert.equal(h.peek(), undefined);
  assert.equal(h.pop(), undefined);
  const x = item(1, 1);
  h.remove(x);
  assert.equal(x.heapIndex, -1);
});

Deno.test("pop returns items in priority order; peek does not remove", () => {
  const h = heap();
  for (const [id, p] of [[1, 5], [2, 3], [3, 9], [4, 1], [5, 3], [6, 7]]) h.push(item(id, p));
  check(h);
  assert.equal(h.peek()!.id, 4);
  assert.equal(h.size, 6);
  const order = drain(h);
  assert.equal(order[0], 4);
  assert.deepEqual(order.slice(1, 3).sort(), [2, 5]);
  assert.deepEqual(order.slice(3), [1, 6, 3]);
});

Deno.test("remove: any item, from anywhere, keeps the heap valid", () => {
  const h = heap();
  const items = Array.from({ length: 20 }, (_, i) => item(i, (i * 7) % 20));
  for (const x of items) h.push(x);
  for (const id of [0, 19, 7, 3]) {
    h.remove(items[id]);
    assert.equal(items[id].heapIndex, -1);
    check(h);
  }
  h.remove(items[7]); // not in the heap any more: no effect
  assert.equal(h.size, 16);
  const left = drain(h);
  assert.deepEqual(
    left,
    items.filter((x) => ![0, 19, 7, 3].includes(x.id)).sort((a, b) => a.p[0] - b.p[0]).map((
      x,
    ) => x.id),
  );
});

Deno.test("remove of an item that belongs to another heap is ignored", () => {
  const h1 = heap(), h2 = heap();
  const a = item(1, 1), b = item(2, 2);
  h1.push(a);
  h2.push(b);
  h1.remove(b); // b.heapIndex is 0, but h1[0] is a
  assert.equal(h1.size, 1);
  assert.equal(h1.peek(), a);
  assert.equal(b.heapIndex, 0);
});

Deno.test("remove of the last item and of the only item", () => {
  const h = heap();
  const a = item(1, 1), b = item(2, 2);
  h.push(a);
  h.push(b);
  h.remove(b);
  check(h);
  h.remove(a);
  assert.equal(h.size, 0);
  assert.equal(a.heapIndex, -1);
  h.push(a);
  assert.equal(h.pop(), a, "an item can go back in after removal");
});

Deno.test("randomized pushes, pops and removals match a sorted model", () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 50; round++) {
    const h = heap();
    const model: Item[] = [];
    let id = 0;
    for (let step = 0; step < 300; step++) {
      const op = rand();
      if (op < 0.5) {
        const x = item(id++, Math.floor(rand() * 10), Math.floor(rand() * 10));
        h.push(x);
        model.push(x);
      } else if (op < 0.75) {
        const x = h.pop();
        if (!model.length) {
          assert.equal(x, undefined);
          continue;
        }
        model.sort((a, b) => priorityLess(a.p, b.p) ? -1 : priorityLess(b.p, a.p) ? 1 : 0);
        assert.ok(x);
        assert.deepEqual(x.p, model[0].p, "pop gives a smallest item");
        model.splice(model.indexOf(x), 1);
      } else if (model.length) {
        const x = model.splice(Math.floor(rand() * model.length), 1)[0];
        h.remove(x);
        assert.equal(x.heapIndex, -1);
      }
      check(h);
      assert.equal(h.size, model.length);
    }
  }
});
