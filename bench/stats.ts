/**
 * Figures with their spread over repeated runs: the median is the headline, min and
 * max and every run are kept beside it, so a reader sees how noisy a figure was.
 */

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function spread(values: number[], digits = 3): Spread {
  const r = (x: number) => Number(x.toFixed(digits));
  return {
    median: r(median(values)),
    min: r(Math.min(...values)),
    max: r(Math.max(...values)),
    runs: values.map(r),
  };
}

export function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
