/**
 * A body counted on the way through that errors past `max` bytes: a write of a body
 * whose length is not declared aborts when it turns out too large, instead of storing
 * it cut short. `over()` says whether that happened (a store may keep what it read
 * before the error, and must then be told to drop it).
 */
export function byteLimit(body: ReadableStream<Uint8Array>, max: number, message: string): { body: ReadableStream<Uint8Array>; over(): boolean } {
  let seen = 0;
  let over = false;
  const counted = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen <= max) return controller.enqueue(chunk);
      over = true;
      controller.error(new Error(message));
    },
  });
  // pipeTo, not pipeThrough: its rejection (the cut) is ours to handle, not an uncaught one.
  body.pipeTo(counted.writable).catch(() => {});
  return { body: counted.readable, over: () => over };
}
