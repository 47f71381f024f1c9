/** Catalogue designs of 2.2/2.4 bottom halves and task queues, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';
import { netBhUnguarded, netRxSoftirqUnguarded } from './net-bh.ts';
import { flushAfterRtnl, flushUnderRtnl, scheduleTaskSleeps, tqImmediateSleeps } from './task-queues.ts';

export const BH_DESIGNS: readonly Design[] = [
  netRxSoftirqUnguarded, netBhUnguarded, // Wilcox: global BH serialisation (issue 5)
  tqImmediateSleeps, scheduleTaskSleeps, // B8: task queues → keventd (issue 5)
  flushUnderRtnl, flushAfterRtnl, // B12 with keventd
];
