/**
 * Splitting a body in two (client and store on a miss, a KV hit and its copy into the
 * edge) without the isolate buffering the difference. The runtime's own tee of a
 * native stream (a fetch, KV or Cache API body, an IdentityTransformStream) reads its
 * source only as fast as the slower branch takes it; a tee of a stream built in
 * JavaScript (`new ReadableStream`, a `TransformStream`, a KV envelope) follows the
 * Streams spec and queues every chunk for the slower branch without limit. Measured in
 * workerd, a 200 MiB body teed, one branch read at once and the other not at all, for
 * 6 s: native, 3.9 MiB went through and RSS grew 14 MB; JavaScript-built, all 200 MiB
 * and 274 MB. So the body is first pumped into a native stream (no JavaScript per
 * chunk): whichever branch is slow (a phone on a bad network, a slow tier write) holds
 * the other back, and what the isolate holds stays a few MiB (ARCHITECTURE.md,
 * invariant 3). The same pipe gives the verdict on the body: whole means exactly the
 * declared Content-Length and no error from the source; a tier may accept a stream
 * that ended early, so the caller deletes what it stored when not whole.
 */

export interface Teed {
  branches: [ReadableStream<Uint8Array>, ReadableStream<Uint8Array>];
  /** True when the source ended without error, at its declared length if it had one. */
  whole: Promise<boolean>;
}

/**
 * Two branches of `body` that never drift far apart. `body` must not itself be the
 * readable side of an IdentityTransformStream or FixedLengthStream (workerd cannot
 * pipe one into another): split those with their own `tee()`, which is native already.
 */
export function teeBody(body: ReadableStream<Uint8Array>, declaredLength: number | null): Teed {
  const native = declaredLength === null ? new IdentityTransformStream() : new FixedLengthStream(declaredLength);
  const whole = body.pipeTo(native.writable).then(
    () => true,
    () => false,
  );
  return { branches: (native.readable as ReadableStream<Uint8Array>).tee(), whole };
}
