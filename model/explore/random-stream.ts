/**
 * The random numbers of a random search, one independent stream per run.
 *
 * fast-check draws the values of run i from its generator after i + 1
 * `jump()`s (fast-check's Tosser). kdefer gives fast-check a generator whose
 * jump is "go to the next run": the stream of run i depends on the search's
 * seed and on i only. So:
 *  - any run can be generated on its own (a worker thread computes run 5000
 *    without the 4999 before it), and results do not depend on how runs are
 *    split between workers;
 *  - fast-check's own replay works: `fc.check(property, { seed, randomType:
 *    runStream, path })` with a path "i:…" regenerates run i and walks the
 *    same shrink steps. That is how a failure is shrunk (random.ts) and how
 *    a saved seed and path are replayed.
 *
 * Inside a run the numbers come from xorshift128+ (Vigna), seeded from
 * (seed, run) by a splitmix-style hash.
 */
import type * as fc from 'fast-check';
import { fastCheck } from './fast-check.ts';

/** A fast-check RandomGenerator (pure-rand's interface: next() in int32, jump() mutates). */
export class RunStream {
  private run: number;
  private s00 = 0;
  private s01 = 0;
  private s10 = 0;
  private s11 = 0;

  /** The generator fast-check builds from a seed: jumped i + 1 times, it is run i's stream. */
  constructor(private readonly seed: number, run = -1) {
    this.run = run;
    this.reseed();
  }

  clone(): RunStream {
    const c = new RunStream(this.seed, this.run);
    c.s00 = this.s00;
    c.s01 = this.s01;
    c.s10 = this.s10;
    c.s11 = this.s11;
    return c;
  }

  /** Uniform in [-2^31, 2^31 - 1]. */
  next(): number {
    const a0 = this.s00 ^ (this.s00 << 23);
    const a1 = this.s01 ^ ((this.s01 << 23) | (this.s00 >>> 9));
    const s10 = this.s10;
    const s11 = this.s11;
    const out = (this.s00 + s10) | 0;
    this.s01 = s11;
    this.s00 = s10;
    this.s11 = a1 ^ s11 ^ (a1 >>> 18) ^ (s11 >>> 5);
    this.s10 = a0 ^ s10 ^ ((a0 >>> 18) | (a1 << 14)) ^ ((s10 >>> 5) | (s11 << 27));
    return out;
  }

  /** The next run's stream. */
  jump(): void {
    this.run++;
    this.reseed();
  }

  getState(): readonly number[] {
    return [this.seed, this.run, this.s00, this.s01, this.s10, this.s11];
  }

  private reseed(): void {
    let h = mix32(this.seed ^ 0x6b646566) ^ mix32(this.run + 0x9e3779b9);
    this.s00 = h = mix32(h + 0x9e3779b9);
    this.s01 = h = mix32(h + 0x9e3779b9);
    this.s10 = h = mix32(h + 0x9e3779b9);
    this.s11 = mix32(h + 0x9e3779b9);
    if ((this.s00 | this.s01 | this.s10 | this.s11) === 0) this.s00 = 1;
  }
}

/** murmur3's fmix32: a bijective 32-bit mixer. */
export function mix32(x: number): number {
  x |= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x | 0;
}

/** fast-check's `randomType` for kdefer searches. */
export const runStream = (seed: number): RunStream => new RunStream(seed);

/**
 * The value fast-check tests in run `run` of `fc.check(property, { seed,
 * randomType: runStream })`: the property's generator on run `run`'s
 * stream, with fast-check's bias for that run.
 */
export function valueOfRun<T>(property: { generate(mrng: fc.Random, runId?: number): fc.Value<[T]> }, seed: number, run: number): T {
  return property.generate(new (fastCheck().Random)(new RunStream(seed, run)), run).value[0];
}

/** A fresh 32-bit seed, when the caller gives none. */
export function freshSeed(): number {
  return (Date.now() ^ (Math.random() * 0x100000000)) | 0;
}
