/** Splits a text stream into lines (without their line endings). */

/** A TransformStream from text chunks to lines. */
export class TextLineStream extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const p of parts) controller.enqueue(p.endsWith("\r") ? p.slice(0, -1) : p);
      },
      flush(controller) {
        if (rest) controller.enqueue(rest);
      },
    });
  }
}
