/** Catalogue designs of the timer area, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';
import { timerCallbackLeaksLock, timerCallbackUnlocks } from './callback-leak.ts';
import {
  delTimerInOwnCallback, delTimerSyncBeforeLock, delTimerSyncInHardirq, delTimerSyncInHardirqIrqsafe,
  delTimerSyncInOwnCallback, delTimerSyncUnderIrqLock, delTimerSyncUnderIrqLockIrqsafe, delTimerSyncUnderLock,
} from './del-timer-sync.ts';
import {
  delTimerSyncRearmedByRx, delTimerSyncThenKfree, delTimerThenKfree, selfRearmingDelTimer, selfRearmingDelTimerSync,
  timerShutdownSyncVsRearm,
} from './teardown.ts';
import { timerRemoteExpiry, timerRemoteExpiry66 } from './remote-expiry.ts';
import { timerVsBhUnguarded24, timerVsTaskletUnguarded } from './timer-bh.ts';

export const TIMER_DESIGNS: readonly Design[] = [
  delTimerSyncUnderLock, delTimerSyncBeforeLock, // B9
  delTimerSyncInOwnCallback, delTimerInOwnCallback, // B9a
  delTimerSyncInHardirq, delTimerSyncInHardirqIrqsafe, // B9b
  delTimerSyncUnderIrqLock, delTimerSyncUnderIrqLockIrqsafe, // B9c
  delTimerThenKfree, delTimerSyncThenKfree, // B10, Wilcox's timer rule
  selfRearmingDelTimer, selfRearmingDelTimerSync, // B10, self-re-arming
  delTimerSyncRearmedByRx, timerShutdownSyncVsRearm, // B10, concurrent re-arm (6.2 timer_shutdown)
  timerCallbackLeaksLock, timerCallbackUnlocks, // B21
  timerVsTaskletUnguarded, timerVsBhUnguarded24, // Wilcox: 2.4 timers ran as a bottom half
  timerRemoteExpiry, timerRemoteExpiry66, // timer pull (6.9+): the same code deadlocks on 6.12, verified on 6.6
];
