/**
 * The visited set of the exhaustive search: 64-bit state fingerprints (two
 * 32-bit lanes, see model/kernel/zobrist.ts) in an open-addressing table of
 * typed arrays (no Map, no strings on the hot path), 8 bytes per slot, kept
 * at most half full.
 *
 * Two states whose fingerprints agree on all 64 bits would be merged. With n
 * states the chance that any pair does is about n²/2^65: below 10^-4 at
 * 6·10^7 states. It is the search's only unsoundness, and the verdict's
 * stats report the number of states so the odds can be computed.
 */
import type { Machine } from '../kernel/machine.ts';
import { fingerprintOf } from '../kernel/zobrist.ts';

/** The full fingerprint of `s` (the same one Machine keeps incrementally). */
export function fingerprint(s: Int32Array, out: Uint32Array): void {
  fingerprintOf(s, out);
}

/** Bytes a visited set with `states` entries needs at most (the table doubles at half full). */
export function visitedBytes(states: number): number {
  let cap = 1 << 16;
  while (states * 2 > cap) cap *= 2;
  return cap * 8;
}

export class VisitedSet {
  private table: Int32Array;
  private mask: number;
  /** The fingerprint (0, 0) marks an empty slot, so it is remembered apart. */
  private hasZero = false;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.table = new Int32Array(cap * 2);
    this.mask = cap - 1;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** Insert; returns true if the fingerprint was new. */
  add(lo: number, hi: number): boolean {
    lo |= 0;
    hi |= 0;
    if (lo === 0 && hi === 0) {
      if (this.hasZero) return false;
      this.hasZero = true;
      this.size++;
      return true;
    }
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    if (!this.insert(this.table, this.mask, lo, hi)) return false;
    this.size++;
    return true;
  }

  /** Whether the fingerprint is in the set. */
  has(lo: number, hi: number): boolean {
    lo |= 0;
    hi |= 0;
    if (lo === 0 && hi === 0) return this.hasZero;
    const table = this.table;
    const mask = this.mask;
    let i = slotOf(lo, hi) & mask;
    for (;;) {
      const a = table[2 * i]!;
      const b = table[2 * i + 1]!;
      if (a === lo && b === hi) return true;
      if (a === 0 && b === 0) return false;
      i = (i + 1) & mask;
    }
  }

  /** Insert the machine's current fingerprint. */
  addState(m: Machine): boolean {
    return this.add(m.hLo, m.hHi);
  }

  private insert(table: Int32Array, mask: number, lo: number, hi: number): boolean {
    let i = slotOf(lo, hi) & mask;
    for (;;) {
      const a = table[2 * i]!;
      const b = table[2 * i + 1]!;
      if (a === 0 && b === 0) {
        table[2 * i] = lo;
        table[2 * i + 1] = hi;
        return true;
      }
      if (a === lo && b === hi) return false;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    const table = new Int32Array(cap * 2);
    const mask = cap - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.insert(table, mask, old[i]!, old[i + 1]!);
    }
    this.table = table;
    this.mask = mask;
  }
}

/** The home slot of a fingerprint: both lanes mixed, so keys equal in one lane spread out. */
function slotOf(lo: number, hi: number): number {
  return (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
}

/**
 * The last fingerprints added, in a direct-mapped table (a later one
 * evicts an earlier one of the same slot): has() is true only for a
 * fingerprint added and not evicted since, never for one not added. For a
 * search that asks whether it stored this very vector: most such questions
 * are about a state stored a moment ago (the two orders of two independent
 * steps), answered from a table far smaller than the visited set (caches,
 * first touches of fresh memory); a miss costs the longer way to the same
 * answer, never a state. The table starts small and doubles, its entries
 * kept, each time as many fingerprints were added as it has slots, up to
 * 2^maxBits slots.
 */
export class RecentSet {
  private table: Int32Array;
  private bits: number;
  private added = 0;

  constructor(private readonly maxBits: number, bits = Math.min(12, maxBits)) {
    this.bits = bits;
    this.table = new Int32Array(2 << bits);
  }

  private slot(lo: number, hi: number): number {
    return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> (32 - this.bits);
  }

  has(lo: number, hi: number): boolean {
    // (0, 0) marks an empty slot: never cached.
    if ((lo | hi) === 0) return false;
    const i = 2 * this.slot(lo, hi);
    return this.table[i] === (lo | 0) && this.table[i + 1] === (hi | 0);
  }

  add(lo: number, hi: number): void {
    if (++this.added > 1 << this.bits && this.bits < this.maxBits) this.grow();
    const i = 2 * this.slot(lo, hi);
    this.table[i] = lo;
    this.table[i + 1] = hi;
  }

  private grow(): void {
    const old = this.table;
    this.bits++;
    this.table = new Int32Array(2 << this.bits);
    for (let j = 0; j < old.length; j += 2) {
      if ((old[j]! | old[j + 1]!) === 0) continue;
      const i = 2 * this.slot(old[j]!, old[j + 1]!);
      this.table[i] = old[j]!;
      this.table[i + 1] = old[j + 1]!;
    }
  }
}
