/**
 * What a check says when it runs out of room, and what it did to get
 * there (the memory bound is pinned through the command line, in
 * properties/cli-search.test.ts): a bounded-out verdict points at the state word that
 * took the most distinct values (an unbounded counter); switching the
 * reductions off changes the stats, never the verdict.
 */
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../model/designs/index.ts';
import { check, defineDesign, inc, lt, v, while_, type Design } from '../../model/index.ts';
import { rearmingCounter } from '../helpers/counter.ts';
import { reductionsText } from '../../scripts/cli/check.ts';

describe('a bounded-out verdict', () => {
  it('at the state limit: names the bound, and its hint names the unbounded counter', () => {
    const v = check(rearmingCounter, { maxStates: 200 });
    expect(v.status).toBe('bounded-out');
    expect(v.bound).toBe('states');
    expect(v.boundedOut).toContain('state limit reached: more than 200 distinct states');
    expect(v.boundedOut).toContain('--max-states');
    // It took a new value in at least one sampled state of four (DISTINCT_CAP is not reached in 200 states).
    expect(v.hint?.words[0]).toMatchObject({ name: 'var count', mechanism: 'design variables', growing: true });
    expect(v.hint?.text).toContain('var count looks unbounded');
  });

  it('at a loop bound: names the loop, with no hint', () => {
    const d = defineDesign({
      name: 'short-loop', cpus: 1, vars: { x: 0 },
      tasks: [{ name: 't', cpu: 0, body: [while_(lt(v('x'), 5), [inc('x')], { bound: 2 })] }],
    });
    const r = check(d);
    expect([r.status, r.bound, r.hint]).toEqual(['bounded-out', 'loop', undefined]);
    expect(r.boundedOut).toBe('a path exceeds the bound of 2 iterations of the loop at task t[0]');
  });
});

const named = (name: string): Design => CATALOGUE.find((d) => d.name === name)!;

describe('switching reductions off', () => {
  const designs = ['task-vs-softirq-spin_lock', 'del_timer_sync-under-spin_lock_irq', 'bench-irq_lock-buggy-n2-k2', 'bench-irq_lock-fixed-n2-k2', 'wilcox-percpu-irqsave'];
  for (const name of designs) {
    it(`changes the stats, not the verdict: ${name}`, () => {
      const on = check(named(name));
      const off = check(named(name), { por: false, symmetry: false, fusion: false });
      expect([off.status, off.violation?.kind, off.violation?.choices.length]).toEqual([on.status, on.violation?.kind, on.violation?.choices.length]);
      expect(on.stats.reductions).toMatchObject({ por: true, fusion: true });
      expect(off.stats.reductions).toMatchObject({ por: false, fusion: false, symmetry: { orbits: [], why: 'switched off' } });
      expect(off.stats.transient).toBe(0);
      expect(off.stats.states).toBeGreaterThanOrEqual(on.stats.states);
      expect(reductionsText(off)).toBe('por off, fusion off, symmetry off (switched off)');
      expect(reductionsText(on)).toMatch(/^por \(pruned [\d,]+ transitions in [\d,]+ states.*\), fusion \([\d,]+ transient states passed through, [\d,]+ of [\d,]+ stored\), symmetry/);
    });
  }

  it('each switch alone: only its own reduction is off', () => {
    const d = named('bench-irq_lock-fixed-n2-k2');
    expect(check(d, { por: false }).stats.reductions).toMatchObject({ por: false, fusion: true });
    expect(check(d, { fusion: false }).stats.reductions).toMatchObject({ por: true, fusion: false });
    expect(check(d, { symmetry: false }).stats.reductions?.symmetry).toEqual({ orbits: [], why: 'switched off' });
  });
});

describe('a violation verdict', () => {
  it('says how its schedule was shortened and what that cost', () => {
    const v = check(named('bench-softirq_bh-buggy-n2-k2'));
    expect(v.violation?.shortened).toBe('bfs');
    expect(v.stats.shortening).toMatchObject({ method: 'bfs' });
    expect(v.stats.shortening!.states).toBeGreaterThan(0);
    expect(v.violation!.foundLength).toBeGreaterThanOrEqual(v.violation!.choices.length);
    const random = check(named('bench-softirq_bh-buggy-n2-k2'), { explorer: 'random', seed: 1, runs: 200 });
    if (random.violation) expect(random.violation.shortened).toBe('ddmin');
    expect(check(named('task-vs-softirq-spin_lock'), { minimize: false }).violation?.shortened).toBe('none');
  });

});
