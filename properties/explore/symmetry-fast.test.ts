/**
 * The symmetry reduction's fast canonical key (model/explore/symmetry.ts):
 * the per-CPU fingerprints Machine keeps for it (trackParts) follow every
 * step and every undo, and the key is the same for every state of an orbit:
 * swapping two interchangeable CPUs' whole parts of a state gives the same
 * key, while a state that is no renaming gets another.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../../model/dsl/compile.ts';
import { backlogDesign, irqLockDesign } from '../../model/designs/bench/index.ts';
import { Symmetry } from '../../model/explore/symmetry.ts';
import { Machine } from '../../model/kernel/machine.ts';

const p = compile(irqLockDesign({ cpus: 3, k: 2, buggy: false }));

function symmetryOf(m: Machine): Symmetry {
  const sym = Symmetry.of(p, m);
  if (typeof sym === 'string') throw new Error(`irq_lock should be symmetric: ${sym}`);
  return sym;
}

/** A random walk of `steps` steps from the initial state (the choice index is taken modulo what is enabled). */
function walk(m: Machine, picks: readonly number[]): void {
  const en: number[] = [];
  for (const k of picks) {
    m.enabledInto(en);
    if (en.length === 0) return;
    m.stepInPlace(en[k % en.length]!);
    if (m.s[0] !== 0) return; // a violation ends the walk
  }
}

describe('symmetry: per-CPU fingerprints and the fast canonical key', () => {
  it('keeps each CPU part fingerprint equal to a recomputation, after steps and after undo', () => {
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 30 }), (a, b) => {
      const m = new Machine(p);
      m.load(m.initial());
      const sym = symmetryOf(m);
      const key = new Int32Array(2);
      sym.canonical(m, key); // starts tracking the parts
      walk(m, a);
      const mark = m.logLen;
      const [lo, hi] = [m.hLo, m.hHi];
      const parts = [Array.from(m.partLo), Array.from(m.partHi)];
      walk(m, b);
      const fresh = new Machine(p);
      fresh.load(m.s.slice());
      fresh.trackParts(m.partOf!, p.ncpu);
      expect([Array.from(m.partLo), Array.from(m.partHi)]).toEqual([Array.from(fresh.partLo), Array.from(fresh.partHi)]);
      m.undoTo(mark, lo, hi);
      expect([Array.from(m.partLo), Array.from(m.partHi)]).toEqual(parts);
    }), { seed: 8, numRuns: 60 });
  });

  it('gives a state and its image under a swap of two CPUs the same key, and a different state another', () => {
    sameKeys(p, [0, 1, 2], [1, 2, 3, 5]);
  });

  it('the same where a CPU is outside the orbit (backlog: cpu0 takes the packets) and global words name the orbit CPUs (the socket lock\'s owner, the wait queue)', () => {
    const q = compile(backlogDesign({ cpus: 3, k: 2, buggy: false }));
    sameKeys(q, [1, 2], [1, 2, 3, 4, 5, 6, 8, 10]);
  });
});

/** Run the same n steps on each CPU of `cpus` (from the initial state): every end state gets one key, and one step more another. */
function sameKeys(p: ReturnType<typeof compile>, cpus: number[], lengths: number[]): void {
  {
    const m = new Machine(p);
    const found = Symmetry.of(p, m);
    if (typeof found === 'string') throw new Error(`the design should be symmetric: ${found}`);
    const sym = found;
    const keyOf = (choices: (m: Machine) => number[], n: number): [number, number] => {
      m.load(m.initial());
      const out = new Int32Array(2);
      const list = choices(m);
      expect(list.length).toBe(n);
      for (const c of list) m.stepInPlace(c);
      sym.canonical(m, out);
      return [out[0]!, out[1]!];
    };
    const onCpu = (cpu: number, n: number) => (mm: Machine): number[] => {
      const out: number[] = [];
      const en: number[] = [];
      for (let i = 0; i < n; i++) {
        mm.enabledInto(en);
        const c = en.find((x) => ((x >>> 24) & 0xf) === cpu && (x >>> 28) === 0);
        if (c === undefined) break;
        mm.stepInPlace(c);
        out.push(c);
      }
      mm.load(mm.initial());
      return out;
    };
    for (const n of lengths) {
      const k0 = keyOf(onCpu(cpus[0]!, n), n);
      for (const c of cpus.slice(1)) expect(keyOf(onCpu(c, n), n)).toEqual(k0);
      expect(keyOf(onCpu(cpus[0]!, n + 1), n + 1)).not.toEqual(k0);
    }
  }
}
