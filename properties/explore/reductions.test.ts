/**
 * The reductions change how much of the state graph is stored, never the
 * verdict: on random small designs (properties/helpers/random-designs.ts),
 * the exhaustive search with every reduction on (register liveness,
 * partial-order reduction, fusion and forced chains, symmetry) and with
 * every one off agrees on the status; where both find a violation, each
 * one's schedule replays on the plain semantics to its kind, and a kind
 * the reduced search reports is reachable in the full graph.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, DesignError, exhaustive, replay, shortestViolation, type Design } from '../../model/index.ts';
import { randomDesign } from '../helpers/random-designs.ts';

const LIMIT = 4_000;

function both(d: Design) {
  const plain = compile(d, { keepDeadRegisters: true });
  const full = exhaustive(plain, { por: false, fusion: false, symmetry: false, maxStates: LIMIT });
  const reduced = exhaustive(compile(d), { maxStates: LIMIT });
  return { plain, full, reduced };
}

describe('reductions on and off agree', () => {
  it('on random small designs: same status; every reduced violation replays and is reachable unreduced', { timeout: 240_000 }, () => {
    let compared = 0;
    let violations = 0;
    fc.assert(fc.property(randomDesign, (d) => {
      let run;
      try {
        run = both(d);
      } catch (e) {
        if (e instanceof DesignError) return; // a generated design the compiler refuses (e.g. sleeping in a handler it cannot compile)
        throw e;
      }
      const { plain, full, reduced } = run;
      if (full.status === 'bounded-out' || reduced.status === 'bounded-out') return;
      compared++;
      expect(reduced.status, JSON.stringify(d)).toBe(full.status);
      if (reduced.violation && full.violation) {
        violations++;
        const again = replay(plain, reduced.violation.choices);
        expect(again.mismatch).toBeNull();
        expect(again.violation?.kind).toBe(reduced.violation.kind);
        if (reduced.violation.kind !== full.violation.kind) {
          // Several kinds are reachable: the reduced search met another one first. It must be real.
          const target = shortestViolation(plain, { kind: reduced.violation.kind, maxStates: 100_000 });
          expect(target.violation?.kind, JSON.stringify(d)).toBe(reduced.violation.kind);
        }
      }
    }), { seed: 20261204, numRuns: 80 });
    expect(compared).toBeGreaterThan(40);
    expect(violations).toBeGreaterThan(10);
  });
});
