import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FieldList, headersInit } from "../../src/http/field-list";

describe("FieldList", () => {
  it("reads and edits as the runtime's Headers do (property)", () => {
    const name = fc.constantFrom("age", "etag", "set-cookie", "cache-status", "x-a");
    const value = fc.stringMatching(/^[a-z0-9=;" ]{0,8}$/).map((v) => v.trim());
    const op = fc.tuple(fc.constantFrom("set", "append", "delete"), name, value);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 5 }), fc.array(op, { maxLength: 8 }), (initial, ops) => {
        const list = new FieldList(initial.map(([n, v]) => [n.toUpperCase(), v] as [string, string]));
        const headers = new Headers(initial);
        for (const [kind, n, v] of ops) {
          if (kind === "delete") {
            list.delete(n);
            headers.delete(n);
          } else {
            list[kind](n, v);
            headers[kind](n, v);
          }
        }
        for (const n of ["age", "etag", "set-cookie", "cache-status", "x-a"]) expect(list.get(n), n).toBe(headers.get(n));
        // What delivery hands the Response: every field as Headers has it, each Set-Cookie apart (RFC 9110 §5.3).
        const delivered = new Response(null, { headers: headersInit(list) }).headers;
        expect([...delivered]).toEqual([...headers]);
        expect(delivered.getSetCookie()).toEqual(headers.getSetCookie());
      }),
    );
  });

  it("hands a field named __proto__ to the Response like any other", () => {
    const list = new FieldList([["__proto__", "x"], ["etag", '"a"']]);
    const delivered = new Response(null, { headers: headersInit(list) }).headers;
    expect(delivered.get("__proto__")).toBe("x");
    expect(delivered.get("etag")).toBe('"a"');
  });
});
