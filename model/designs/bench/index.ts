/**
 * The SPIN reference scenarios (../shared/bench/spin/) as kdefer designs,
 * parameterised by CPUs N and iterations K, buggy and fixed. `npm run bench`
 * runs them against SPIN on the same N and K; the catalogue carries the
 * N=2, K=2 pairs, checked by npm test.
 */
import type { Design } from '../../dsl/design.ts';
import { backlogDesign } from './backlog.ts';
import { irqLockDesign, type BenchParams } from './irq-lock.ts';
import { softirqBhDesign } from './softirq-bh.ts';

export { backlogDesign, irqLockDesign, softirqBhDesign, type BenchParams };

/** The three scenarios by the name of their .pml file. */
export const BENCH_SCENARIOS: Readonly<Record<'irq_lock' | 'softirq_bh' | 'backlog', (b: BenchParams) => Design>> = {
  irq_lock: irqLockDesign,
  softirq_bh: softirqBhDesign,
  backlog: backlogDesign,
};

/** The catalogue's pairs: each scenario at 2 CPUs, K=2, buggy then fixed. */
export const BENCH_DESIGNS: readonly Design[] = (['irq_lock', 'softirq_bh', 'backlog'] as const).flatMap((name) =>
  [true, false].map((buggy) => BENCH_SCENARIOS[name]({ cpus: 2, k: 2, buggy })));
