/**
 * The catalogue: every scenario of the seeds as buggy/fixed pairs. Each
 * design claims a verdict in `expected`; `npm run check` confirms every
 * claim by exploring.
 */
import type { Design } from '../dsl/design.ts';
import { abbaOrdered, abbaSpinLock } from './abba.ts';
import { irqSafeToUnsafe, irqSafeToUnsafeFixed } from './irq-safe-unsafe.ts';
import { nestedSpinLockUnderIrqsave, prematureIrqEnable } from './premature-irq-enable.ts';
import { rwlockReadRecursionHardirq, rwlockReadRecursionTask } from './rwlock-read-recursion.ts';
import { taskVsHardirqSpinLock, taskVsHardirqSpinLockIrqsave } from './task-vs-hardirq.ts';
import { taskVsSoftirqSpinLock, taskVsSoftirqSpinLockBh } from './task-vs-softirq.ts';
import { BH_DESIGNS } from './bh/index.ts';
import { DRIVER_DESIGNS } from './drivers/index.ts';
import { SLEEP_DESIGNS } from './sleep/index.ts';
import { TASKLET_DESIGNS } from './tasklet/index.ts';
import { TCP_DESIGNS } from './tcp/index.ts';
import { TIMER_DESIGNS } from './timer/index.ts';
import { PIPELINE_DESIGNS } from './pipeline/index.ts';
import { WILCOX_DESIGNS } from './wilcox/index.ts';
import { WORKQUEUE_DESIGNS } from './workqueue/index.ts';
import { RT_DESIGNS } from './rt/index.ts';
import { NMI_DESIGNS } from './nmi/index.ts';
import { BENCH_DESIGNS } from './bench/index.ts';

/** Every catalogue design, buggy then fixed, pair by pair. */
export const CATALOGUE: readonly Design[] = [
  taskVsHardirqSpinLock, taskVsHardirqSpinLockIrqsave, // B1
  taskVsSoftirqSpinLock, taskVsSoftirqSpinLockBh, // B2
  abbaSpinLock, abbaOrdered, // B5
  irqSafeToUnsafe, irqSafeToUnsafeFixed, // B6
  prematureIrqEnable, nestedSpinLockUnderIrqsave, // B4
  rwlockReadRecursionTask, rwlockReadRecursionHardirq, // B17
  ...WILCOX_DESIGNS,
  ...SLEEP_DESIGNS,
  ...TASKLET_DESIGNS,
  ...BH_DESIGNS,
  ...TIMER_DESIGNS,
  ...WORKQUEUE_DESIGNS,
  ...TCP_DESIGNS,
  ...PIPELINE_DESIGNS,
  ...RT_DESIGNS,
  ...NMI_DESIGNS,
  ...DRIVER_DESIGNS,
  ...BENCH_DESIGNS,
];

/** A catalogue design by name. */
export function catalogueDesign(name: string): Design | undefined {
  return CATALOGUE.find((d) => d.name === name);
}
