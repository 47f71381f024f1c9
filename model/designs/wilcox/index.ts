/** Catalogue designs from Wilcox's "I'll Do It Later" (shared/seeds/), buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';
import { wilcoxProcessVsBh, wilcoxProcessVsBhFixed, wilcoxProcessVsIrq, wilcoxProcessVsIrqFixed } from './contexts.ts';
import { percpuIrqsave, percpuMigration, percpuRemoteUser, percpuRemoteUserLocked } from './percpu.ts';
import { softirqGuarded, softirqUnguarded } from './softirq-concurrency.ts';

export const WILCOX_DESIGNS: readonly Design[] = [
  wilcoxProcessVsIrq, wilcoxProcessVsIrqFixed,
  wilcoxProcessVsBh, wilcoxProcessVsBhFixed,
  percpuMigration, percpuIrqsave,
  percpuRemoteUser, percpuRemoteUserLocked,
  softirqUnguarded, softirqGuarded,
];
