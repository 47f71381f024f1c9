/**
 * The visited set of the exhaustive search: 64-bit state fingerprints in an
 * open-addressing table of typed arrays (no Map, no strings on the hot path).
 * Two states that collide on all 64 bits would be merged; at the state counts
 * we reach (≤ 10^8) the chance is below 10^-3 and is reported as the
 * search's only unsoundness.
 */

/** Two independent 32-bit hashes of a state, mixed murmur-style. */
export function fingerprint(s: Int32Array, out: Uint32Array): void {
  let h1 = 0x9747b28c ^ s.length;
  let h2 = 0x85ebca6b ^ Math.imul(s.length, 0x27d4eb2f);
  for (let i = 0; i < s.length; i++) {
    let k = s[i]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 = Math.imul(h2 ^ s[i]!, 0x2c1b3c6d) + i;
    h2 ^= h2 >>> 16;
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 = Math.imul(h2 ^ (h2 >>> 15), 0x297a2d39);
  h2 ^= h2 >>> 12;
  out[0] = h1 >>> 0;
  out[1] = (h2 >>> 0) | 1; // never 0, so (0, 0) marks an empty slot
}

export class VisitedSet {
  private table: Uint32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.table = new Uint32Array(cap * 2);
    this.mask = cap - 1;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** Insert; returns true if the fingerprint was new. */
  add(h1: number, h2: number): boolean {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    return this.insert(this.table, this.mask, h1, h2);
  }

  private insert(table: Uint32Array, mask: number, h1: number, h2: number): boolean {
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & mask;
    for (;;) {
      const a = table[2 * i]!;
      const b = table[2 * i + 1]!;
      if (a === 0 && b === 0) {
        table[2 * i] = h1;
        table[2 * i + 1] = h2;
        if (table === this.table) this.size++;
        return true;
      }
      if (a === h1 && b === h2) return false;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    const table = new Uint32Array(cap * 2);
    const mask = cap - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.insert(table, mask, old[i]!, old[i + 1]!);
    }
    this.table = table;
    this.mask = mask;
  }
}
