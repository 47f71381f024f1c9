/**
 * The Linux lockdep self-tests (lib/locking-selftest.c) as a peer suite
 * (model/suites/lockdep-selftests.ts, shared/lockdep-selftests.md): on
 * every in-scope case kdefer's lockdep prediction says what lockdep says,
 * and the search settles it as §3 classifies it: a deadlock found within
 * the design's CPUs (R1, R2), with as many CPUs as the cycle needs (R3,
 * R4), not reachable for want of a writer (P), lock misuse (M), nothing at
 * all where lockdep stays silent.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../model/index.ts';
import { LOCKDEP_SELFTEST_DESIGNS, LOCKDEP_SELFTESTS, runLockdepSuite, type SelftestResult } from '../../model/suites/lockdep-selftests.ts';

const count = <T>(xs: readonly T[], f: (x: T) => boolean): number => xs.filter(f).length;

describe('the lockdep self-test suite', () => {
  it('has the 278 in-scope cases of §5 over 93 designs, 171 FAILURE and 107 SUCCESS', () => {
    expect(LOCKDEP_SELFTESTS.length).toBe(278);
    expect(LOCKDEP_SELFTEST_DESIGNS.length).toBe(93);
    expect(count(LOCKDEP_SELFTESTS, (c) => c.expected === 'FAILURE')).toBe(171);
    expect(count(LOCKDEP_SELFTESTS, (c) => c.expected === 'SUCCESS')).toBe(107);
    const reach = (r: string) => count(LOCKDEP_SELFTESTS, (c) => c.reach === r);
    expect([reach('R1'), reach('R2'), reach('R3') + reach('R4'), reach('P'), reach('M'), reach('-')]).toEqual([61, 79, 23, 2, 6, 107]);
    // A label is unique within its column.
    expect(new Set(LOCKDEP_SELFTESTS.map((c) => `${c.column}|${c.label}`)).size).toBe(278);
  });

  // The suite is run once, by whichever test needs it first.
  let run: ReturnType<typeof runLockdepSuite> | null = null;
  const suite = () => (run ??= runLockdepSuite());
  it('agrees with lockdep on every case, prediction and search', () => {
    const r = suite();
    const disagreements = r.cases.filter((c) => !c.agree).map((c) => `${c.column} ${c.label}: ${c.note}`);
    expect(disagreements).toEqual([]);
    expect(r.totals).toEqual({ cases: 278, agree: 278 });
  }, 120_000);

  it('settles each reach class as §3 says', () => {
    const results: readonly SelftestResult[] = suite().cases;
    expect(results.length).toBe(278);
    for (const c of results) {
      const want = { R1: 'deadlock', R2: 'deadlock', R3: 'deadlock (more CPUs)', R4: 'deadlock (more CPUs)', P: 'not reachable', M: 'misuse', '-': 'none' }[c.reach];
      expect(`${c.column} ${c.label}: ${c.confirmed}`).toBe(`${c.column} ${c.label}: ${want}`);
      expect(c.predicted).toBe(c.expected);
    }
    // The queued-rwlock potentials are lockdep's assumed writer: the reason says so.
    for (const c of results.filter((r) => r.reach === 'P')) expect(c.note).toMatch(/^no writer of &A exists/);
  }, 120_000);

  it('reports what lockdep reports: recursion, cycles, irq inversions, misuse', () => {
    const results = suite().cases;
    const reports = (label: string, column: string) => results.find((r) => r.label === label && r.column === column)!.reports;
    expect(reports('A-A deadlock', 'spin')).toEqual(['WARNING: possible recursive locking detected']);
    expect(reports('A-B-B-A deadlock', 'mutex')).toEqual(['WARNING: possible circular locking dependency detected']);
    expect(reports('A-B-B-C-C-D-D-A deadlock', 'wlock')).toEqual(['WARNING: possible circular locking dependency detected']);
    expect(reports('double unlock', 'rlock')).toEqual(['WARNING: bad unlock balance detected!']);
    expect(reports('initialize held', 'spin')).toEqual(['WARNING: held lock freed!']);
    expect(reports('hard-irqs-on + irq-safe-A/12', 'spin')).toEqual(['WARNING: inconsistent lock state']);
    expect(reports('soft-safe-A + unsafe-B #2/123', 'wlock')).toEqual(['WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected']);
    // print_bad_irq_dependency names both ends after the safe lock's usage bit (irqclass twice).
    expect(reports('hard-irq lock-inversion/123', 'spin')).toEqual(['WARNING: HARDIRQ-READ-safe -> HARDIRQ-READ-unsafe lock order detected']);
    expect(reports('hard-irq read-recursion #3/123', 'wlock')).toEqual(['WARNING: HARDIRQ-READ-safe -> HARDIRQ-READ-unsafe lock order detected']);
    expect(reports('hardirq inversion', 'queued')).toEqual(['WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected']);
    // The special test is reported with the right state: HARDIRQ, not the harmless SOFTIRQ chain M → C → D.
    expect(reports('hardirq_unsafe_softirq_safe', 'special')).toEqual(['WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected']);
    expect(reports('local_lock inversion  2', 'local_lock')).toEqual([]);
  }, 120_000);

  it('the main table\'s reader-biased rwlocks change no real behaviour: each design gets the same search verdict with queued rwlocks', () => {
    const main = LOCKDEP_SELFTEST_DESIGNS.filter((d) => d.flags?.rwlock === 'reader-biased' && Object.values(d.locks ?? {}).some((l) => (typeof l === 'string' ? l : l.kind) === 'rwlock'));
    expect(main.length).toBeGreaterThan(40);
    for (const d of main) {
      const biased = check(d, { lockdep: false });
      const queued = check({ ...d, flags: { rwlock: 'qrwlock' } }, { lockdep: false });
      expect([d.name, queued.status, queued.violation?.kind]).toEqual([d.name, biased.status, biased.violation?.kind]);
    }
  }, 60_000);
});
