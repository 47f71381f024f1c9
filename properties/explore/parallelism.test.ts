/**
 * The parallelism figure of issue 5 (model/explore/parallelism.ts): the most
 * CPUs inside one handler at once in any explored state: N for a softirq,
 * 1 for a tasklet and a 2.4 bottom half, which the kernel serialises. And
 * the design invariants it is checked with (always / at-end, with a kind).
 */
import { describe, expect, it } from 'vitest';
import { catalogueDesign } from '../../model/designs/index.ts';
import { add, assign, check, compile, defineDesign, DesignError, eq, le, load, r, v, type Design } from '../../model/index.ts';

const named = (n: string): Design => catalogueDesign(n) ?? (() => { throw new Error(`no design ${n}`); })();

describe('parallelism', () => {
  it('a softirq runs on both CPUs at once: 2', () => {
    expect(check(named('wilcox-softirq-guarded-shared-data')).stats.parallelism).toBe(2);
    expect(check(named('net_rx-softirq-unguarded')).stats.parallelism).toBe(2);
  });

  it('a tasklet never runs on two CPUs at once: 1', () => {
    expect(check(named('completion-tasklet-unguarded')).stats.parallelism).toBe(1);
  });

  it('a 2.4 bottom half never runs on two CPUs at once: 1', () => {
    expect(check(named('net_bh-unguarded-linux-2_4')).stats.parallelism).toBe(1);
  });

  it('is an exhaustive figure: the random explorer reports none', () => {
    expect(check(named('wilcox-softirq-guarded-shared-data'), { explorer: 'random', seed: 1, runs: 20 }).stats.parallelism).toBeUndefined();
  });
});

describe('design invariants', () => {
  const racy = (extra: Partial<Design>): Design => defineDesign({
    name: 'racy', cpus: 2, vars: { count: 0 },
    tasks: [0, 1].map((c) => ({ name: `t${c}`, cpu: c, body: [load('tmp', v('count')), assign('count', add(r('tmp'), 1))] })),
    ...extra,
  });

  it('an at-end invariant catches a lost update, with the kind it names', () => {
    const verdict = check(racy({ invariants: [{ name: 'both counted', holds: eq(v('count'), 2), when: 'at-end', kind: 'data-race' }] }));
    expect(verdict.violation?.kind).toBe('data-race');
    expect(verdict.violation?.message).toBe("invariant 'both counted' does not hold when all work is done: count == 2");
  });

  it('an always invariant is checked after every step; assertion is the default kind', () => {
    const verdict = check(racy({ invariants: [{ name: 'small', holds: le(v('count'), 0) }] }));
    expect(verdict.violation?.kind).toBe('assertion');
    expect(verdict.violation?.message).toBe("invariant 'small' does not hold: count <= 0");
    expect(verdict.violation?.trace).toHaveLength(2);
  });

  it('an invariant that holds in every state is verified', () => {
    expect(check(racy({ invariants: [{ name: 'bounded', holds: le(v('count'), 2) }] })).status).toBe('verified');
  });

  it('an invariant may not read registers or the current CPU', () => {
    expect(() => compile(racy({ invariants: [{ name: 'reg', holds: eq(r('tmp'), 0) }] }))).toThrow(DesignError);
    expect(() => compile(racy({ invariants: [{ name: 'kind', holds: eq(v('count'), 0), kind: 'nonsense' as never }] })))
      .toThrow(/invariants\[0\]: unknown violation kind "nonsense"/);
  });
});
