/**
 * The state's 64-bit fingerprint, as two 32-bit lanes. Each nonzero word
 * contributes a pseudo-random value of (offset, value) to each lane, and the
 * contributions are combined by XOR (Zobrist hashing). So a step that writes
 * a few words updates the fingerprint from those words alone: for each write,
 * lane ^= z(off, old) ^ z(off, new) (see Machine.w). Zero words contribute
 * nothing, so the fingerprint depends only on the nonzero words, and
 * growing the layout with zero words changes no fingerprint.
 *
 * The two lanes mix (offset, value) with different constants; a state pair
 * that collides on both lanes is what would be merged wrongly (see
 * model/explore/visited.ts for the odds).
 */

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** Lane 1 contribution of word `off` holding `v` (0 for a zero word). */
export function zLo(off: number, v: number): number {
  return v === 0 ? 0 : fmix32(Math.imul(off + 1, 0x9e3779b1) ^ fmix32(v ^ 0x5bd1e995));
}

/** Lane 2 contribution of word `off` holding `v` (0 for a zero word). */
export function zHi(off: number, v: number): number {
  return v === 0 ? 0 : fmix32((Math.imul(off + 0x3c6ef372, 0x7feb352d) + fmix32(Math.imul(v, 0x846ca68b) + 0x27d4eb2f)) | 0);
}

/** The full fingerprint of `s` into out[0] (lane 1) and out[1] (lane 2). */
export function fingerprintOf(s: Int32Array, out: Uint32Array): void {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    if (v !== 0) {
      lo ^= zLo(i, v);
      hi ^= zHi(i, v);
    }
  }
  out[0] = lo >>> 0;
  out[1] = hi >>> 0;
}
