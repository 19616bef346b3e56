import { describe, expect, it } from "vitest";
import { allowed, parseAllowList } from "../../src/admin/ip-allow";

describe("PURGE_ALLOW", () => {
  const list = parseAllowList("192.0.2.1, 198.51.100.0/24\n2001:db8::/48 ::1 10.0.0.0/8 nonsense 1.2.3.4/40");

  it.each([
    ["192.0.2.1", true],
    ["192.0.2.2", false],
    ["198.51.100.255", true],
    ["198.51.101.0", false],
    ["10.255.0.1", true],
    ["2001:db8:0:ffff::1", true],
    ["2001:db8:1::1", false],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:192.0.2.1", true],
    ["1.2.3.4", false],
    ["not an ip", false],
    ["192.0.2.01", false],
  ])("%s -> %s", (ip, expected) => {
    expect(allowed(list, ip)).toBe(expected);
  });

  it("keeps the entries it cannot read apart, never widening the list", () => {
    expect(list.invalid).toEqual(["nonsense", "1.2.3.4/40"]);
    expect(allowed(parseAllowList(undefined), "127.0.0.1")).toBe(false);
    expect(allowed(list, null)).toBe(false);
  });
});
