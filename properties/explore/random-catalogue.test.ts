/**
 * The random search's default strategy (mix) on the whole catalogue, with
 * several fixed seeds: every seed must find every catalogue bug, with the
 * kind the design claims, so that no test depends on one lucky seed. (The
 * 20-seed sweep of every strategy, with medians and percentiles, is the
 * benchmark: npm run bench -- --random.) Each search stops at its first
 * violation and is not shrunk here; properties/catalogue.test.ts checks a
 * whole random verdict, shrunk and replayed.
 */
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../model/designs/index.ts';
import { compile } from '../../model/dsl/compile.ts';
import { firstViolation } from '../../model/explore/random.ts';

const SEEDS = [1, 2, 3, 4, 5];
/** Runs each seed may take; the benchmark's worst over 20 seeds is about a quarter of it. */
const RUNS = 2000;

const buggy = CATALOGUE.filter((d) => d.expected !== undefined && d.expected !== 'verified');

describe.each(SEEDS)('mix with seed %i', (seed) => {
  it(`finds every catalogue bug (${buggy.length}) within ${RUNS} runs, with the kind it claims`, () => {
    const missed: string[] = [];
    for (const d of buggy) {
      const hit = firstViolation(compile(d), { seed, runs: RUNS });
      if (hit?.kind !== d.expected) missed.push(`${d.name}: ${hit ? `a ${hit.kind} at run ${hit.run}` : 'nothing'}`);
    }
    expect(missed).toEqual([]);
  });
});
