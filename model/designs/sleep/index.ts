/** Catalogue designs of sleeping primitives and softirq raising, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';
import { napiScheduleFromTask, napiScheduleUnderBhDisable } from './lost-softirq.ts';
import { mutexAbba, mutexOrdered, sleepOnRace, waitEventNoLostWakeup } from './lost-wakeup.ts';
import { msleepWithBhDisabled, msleepWithBhEnabled, mutexOutsideSpinlock, mutexUnderSpinlock } from './sleep-in-atomic.ts';

export const SLEEP_DESIGNS: readonly Design[] = [
  mutexUnderSpinlock, mutexOutsideSpinlock, // B8
  msleepWithBhDisabled, msleepWithBhEnabled, // B8
  napiScheduleFromTask, napiScheduleUnderBhDisable, // B15
  sleepOnRace, waitEventNoLostWakeup, // lost wakeup
  mutexAbba, mutexOrdered, // B5 with mutexes
];
