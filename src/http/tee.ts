/**
 * Splitting a body in two (client and store on a miss, a KV hit and its copy into the
 * edge) without the isolate buffering the difference. The runtime's own tee of a
 * native stream (a fetch, KV or Cache API body, an IdentityTransformStream) reads its
 * source only as fast as the slower branch takes it; a tee of a stream built in
 * JavaScript (`new ReadableStream`, a `TransformStream`, a KV envelope) follows the
 * Streams spec and queues every chunk for the slower branch without limit (a 200 MiB
 * body, one branch unread: all of it queued, +274 MB). So the body is first pumped into
 * a native stream (no JavaScript per chunk): whichever branch is slow (a phone on a bad
 * network, a slow tier write) holds the other back, and what the isolate holds stays a
 * few MiB (bench `cases.memory.slowReader`: a 200 MiB miss read at 64 KiB/s, +1 MB;
 * ARCHITECTURE.md, invariant 3 and "Platform facts" for a branch JavaScript leaves unread).
 * A miss's client branch is then read ahead and detached when it lags past a bound
 * (`http/lagging-client.ts`), so a slow client does not pace the store and the requests
 * collapsed onto it. The same pipe gives the verdict on the body: whole means exactly the
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
