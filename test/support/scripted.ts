/** What tests can ask of the scripted origin (origin-server.ts); shared by Node and workerd code. */

export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** Body text; `{n}` is replaced by the 1-based request number for this path. */
  body?: string;
  /** Instead of `body`: this many deterministic pseudo-random bytes (see `patternBytes`). */
  bodyBytes?: number;
  /**
   * The body as a pre-compressed file is sent (nginx gzip_static, an object stored
   * gzip-encoded in a bucket): compressed, with `Content-Encoding` and the compressed
   * `Content-Length`, whatever the request's Accept-Encoding.
   */
  encoding?: "gzip" | "deflate";
  /**
   * Honour a single `Range: bytes=a-b` (`a-`, `-n`) as an origin that supports ranges
   * does: a 206 of those bytes with Content-Range (416 past the end); no Range, the whole body.
   */
  ranges?: boolean;
  /** No Content-Length: the body goes out chunked (its length unknown until the end). */
  chunked?: boolean;
  /** Announce the full Content-Length but close the socket after this many bytes. */
  truncateAt?: number;
  /** Destroy the socket before answering (connection reset). */
  reset?: boolean;
  /** Hold the response until POST /__control/release for its path. */
  hold?: boolean;
  /** Send headers, then hold the body until released (slow body). */
  holdBody?: boolean;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Deterministic bytes so that both ends can compute the same digest without sending it. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}


declare module "vitest" {
  /** What global-setup.ts hands the tests in workerd. */
  export interface ProvidedContext {
    originUrl: string;
  }
}
