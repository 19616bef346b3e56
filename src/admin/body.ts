/**
 * Reading an admin request's body with a size cap: the count is kept while the body
 * streams, so an oversized or lying Content-Length is cut off, never buffered (the
 * rest is read and dropped, see http/discard.ts, so the 413 reaches the client).
 */
import { discardBody } from "../http/discard";
import { jsonResponse } from "../http/respond";

export type BodyResult<T> = { ok: true; value: T } | { ok: false; response: Response };

/** The body as text, at most `maxBytes`; 413 past it. */
export async function readText(request: Request, maxBytes: number): Promise<BodyResult<string>> {
  const tooLarge = (): BodyResult<string> => ({
    ok: false,
    response: jsonResponse({ error: "too-large", message: `The body is over ${maxBytes} bytes, the most this endpoint accepts: send less per request.` }, 413),
  });
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > maxBytes) {
    await discardBody(request.body);
    return tooLarge();
  }
  if (!request.body) return { ok: true, value: "" };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      chunks.length = 0;
      await discardBody(reader);
      return tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  try {
    return { ok: true, value: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(all) };
  } catch {
    return { ok: false, response: jsonResponse({ error: "bad-request", message: "The body is not UTF-8 text: send JSON." }, 400) };
  }
}

/** The body as JSON, at most `maxBytes`; `example` goes into the message when it is not JSON. */
export async function readJson(request: Request, maxBytes: number, example: string): Promise<BodyResult<unknown>> {
  const text = await readText(request, maxBytes);
  if (!text.ok) return text;
  if (text.value.trim() === "") {
    return { ok: false, response: jsonResponse({ error: "bad-request", message: `The body is empty: send JSON such as ${example}.` }, 400) };
  }
  try {
    return { ok: true, value: JSON.parse(text.value) as unknown };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, response: jsonResponse({ error: "bad-request", message: `The body is not valid JSON (${why}): send JSON such as ${example}.` }, 400) };
  }
}
