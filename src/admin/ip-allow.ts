/**
 * `PURGE_ALLOW`: the addresses that may send `PURGE` without a token, as Varnish's
 * `acl purge { ... }` lists them: IPs and CIDR ranges, IPv4 and IPv6, separated by
 * commas or spaces. Checked against `CF-Connecting-IP` (the client address Cloudflare
 * sets; a client cannot forge it through Cloudflare). Pure.
 */

interface Range {
  v6: boolean;
  base: bigint;
  bits: number;
}

export interface AllowList {
  ranges: readonly Range[];
  /** Entries that are not an IP or CIDR range: ignored (never widened), reported in the log. */
  invalid: readonly string[];
}

export function parseAllowList(value: string | undefined): AllowList {
  const ranges: Range[] = [];
  const invalid: string[] = [];
  for (const item of (value ?? "").split(/[\s,]+/).filter(Boolean)) {
    const range = parseRange(item);
    if (range) ranges.push(range);
    else invalid.push(item);
  }
  return { ranges, invalid };
}

/** Whether `ip` (a literal address) is in the list; anything unparsable is not. */
export function allowed(list: AllowList, ip: string | null): boolean {
  const addr = ip === null ? null : parseAddress(ip.trim());
  if (addr === null) return false;
  return list.ranges.some((r) => r.v6 === addr.v6 && prefixOf(addr.value, r.bits, r.v6) === r.base);
}

function parseRange(item: string): Range | null {
  const slash = item.indexOf("/");
  const addr = parseAddress(slash < 0 ? item : item.slice(0, slash));
  if (addr === null) return null;
  const max = addr.v6 ? 128 : 32;
  const bitsText = slash < 0 ? String(max) : item.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) return null;
  const bits = Number(bitsText);
  return { v6: addr.v6, bits, base: prefixOf(addr.value, bits, addr.v6) };
}

function prefixOf(value: bigint, bits: number, v6: boolean): bigint {
  const width = v6 ? 128n : 32n;
  const host = width - BigInt(bits);
  return (value >> host) << host;
}

/** An IPv4 or IPv6 literal; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) counts as its IPv4 address. */
export function parseAddress(text: string): { v6: boolean; value: bigint } | null {
  const v4 = parseV4(text);
  if (v4 !== null) return { v6: false, value: v4 };
  const v6 = parseV6(text);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { v6: false, value: v6 & 0xffffffffn };
  return { v6: true, value: v6 };
}

function parseV4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseV6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split("::").length > 2) return null;
  let groups: string[];
  const [head, tail] = text.split("::") as [string, string | undefined];
  const split = (s: string) => (s === "" ? [] : s.split(":"));
  // A trailing dotted quad stands for the last two groups.
  const expand = (list: string[]): string[] | null => {
    const last = list.at(-1);
    if (last === undefined || !last.includes(".")) return list;
    const v4 = parseV4(last);
    if (v4 === null) return null;
    return [...list.slice(0, -1), (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
  };
  if (tail === undefined) {
    const all = expand(split(head));
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else {
    const h = split(head);
    const t = expand(split(tail));
    if (t === null || h.length + t.length > 7) return null;
    groups = [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  }
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}
