/** Catalogue designs of PREEMPT_RT: the same code on 6.12 and 6.12 PREEMPT_RT, pair by pair. */
import type { Design } from '../../dsl/design.ts';
import {
  bhUnderIrqsave, bhUnderIrqsaveRt, rtSpinLockIrqsave, rtSpinLockIrqsOff, rtSpinLockUnderRaw,
  rtSpinLockUnderRaw612,
} from './sleeping-spinlocks.ts';

export const RT_DESIGNS: readonly Design[] = [
  rtSpinLockIrqsOff, rtSpinLockIrqsave, // B51 on RT, and its fix (the same code is verified on 6.12: rtSpinLockIrqsOff612)
  rtSpinLockUnderRaw, rtSpinLockUnderRaw612, // B51 under a raw spinlock: broken on RT, correct on !RT
  bhUnderIrqsave, bhUnderIrqsaveRt, // B57: broken on !RT, correct on RT
];
