/** Catalogue designs of the tasklet area, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';
import { taskletBalanced, taskletLeaksBhDisable } from './callback-leak.ts';
import { completionSoftirqUnguarded, completionTaskletUnguarded } from './concurrency.ts';
import {
  killAfterEnable, killAfterSourceOff, killDisabledTasklet, killFromHardirq, killFromTask, killThenFreeLiveSource,
} from './kill.ts';
import { disableInAtomicOverTasklet, disableInOwnFunc, disableNosyncInOwnFunc, disableNosyncOverTasklet } from './waits.ts';

export const TASKLET_DESIGNS: readonly Design[] = [
  completionSoftirqUnguarded, completionTaskletUnguarded, // T1 (issue 5: softirqs vs tasklets)
  disableInAtomicOverTasklet, disableNosyncOverTasklet, // B13
  killFromHardirq, killFromTask, // B14a
  killDisabledTasklet, killAfterEnable, // B14b
  killThenFreeLiveSource, killAfterSourceOff, // B14c
  disableInOwnFunc, disableNosyncInOwnFunc, // B14d
  taskletLeaksBhDisable, taskletBalanced, // B21
];
