/**
 * The visited set keeps all 64 bits of a fingerprint: two fingerprints that
 * differ only in their low or only in their high 32 bits are never merged,
 * the all-zero fingerprint included, across table growth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VisitedSet } from '../../model/explore/visited.ts';

describe('VisitedSet', () => {
  it('never merges fingerprints that differ only in their low or their high 32 bits', () => {
    fc.assert(fc.property(fc.integer(), fc.integer(), fc.integer(), (lo, hi, other) => {
      fc.pre(other !== lo && other !== hi);
      const set = new VisitedSet(4);
      expect(set.add(lo, hi)).toBe(true);
      expect(set.add(lo, other)).toBe(true); // same low half
      expect(set.add(other, hi)).toBe(true); // same high half
      expect(set.add(lo, hi)).toBe(false);
      expect([set.has(lo, hi), set.has(lo, other), set.has(other, hi), set.size]).toEqual([true, true, true, 3]);
    }), { seed: 3, numRuns: 500 });
  });

  it('keeps the zero fingerprint and its one-bit neighbours apart, and everything through growth', () => {
    const set = new VisitedSet(2);
    expect(set.add(0, 0)).toBe(true);
    expect(set.add(0, 1)).toBe(true);
    expect(set.add(1, 0)).toBe(true);
    expect(set.add(0, 0)).toBe(false);
    let added = 0;
    for (let i = 0; i < 50_000; i++) if (set.add(i, 7)) added++;
    let found = 0;
    for (let i = 0; i < 50_000; i++) if (set.has(i, 7)) found++;
    expect([added, found, set.has(3, 8)]).toEqual([50_000, 50_000, false]);
    expect(set.has(0, 0) && set.has(0, 1) && set.has(1, 0)).toBe(true);
    expect(set.size).toBe(3 + 50_000);
  });
});
