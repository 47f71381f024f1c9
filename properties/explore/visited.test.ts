/**
 * The visited set keeps all 64 bits of a fingerprint: two fingerprints that
 * differ only in their low or only in their high 32 bits are never merged,
 * the all-zero fingerprint included, across table growth. The table of
 * states stored lately (RecentSet) may forget, but never answers yes for a
 * fingerprint not added: the search would lose that state.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentSet, VisitedSet } from '../../model/explore/visited.ts';

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

describe('RecentSet', () => {
  it('answers yes only for a fingerprint added (both halves), always for the last one added, through growth', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer(), fc.integer()), { minLength: 1, maxLength: 300 }), fc.integer(), (keys, other) => {
      const set = new RecentSet(6, 2);
      const added = new Set<string>();
      for (const [lo, hi] of keys) {
        set.add(lo, hi);
        added.add(`${lo},${hi}`);
        expect(set.has(lo, hi)).toBe(true);
      }
      for (const [lo, hi] of keys) {
        // The same low half, or the same high half, with the other half not added: never found.
        if (!added.has(`${lo},${other}`)) expect(set.has(lo, other)).toBe(false);
        if (!added.has(`${other},${hi}`)) expect(set.has(other, hi)).toBe(false);
      }
    }), { seed: 5, numRuns: 300 });
  });

  it('never finds the zero fingerprint, which marks an empty slot', () => {
    const set = new RecentSet(4);
    expect(set.has(0, 0)).toBe(false);
    set.add(0, 0);
    expect(set.has(0, 0)).toBe(false);
    set.add(0, 1);
    expect([set.has(0, 1), set.has(1, 0)]).toEqual([true, false]);
  });
});
