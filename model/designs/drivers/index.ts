/**
 * Catalogue designs of issue 11, drivers as they are written (atomics and
 * refcounts, irq lines and irq_work, NAPI, seqcounts, RCU, allocation
 * contexts, kernel threads, disable_work), buggy then fixed, pair by pair.
 * The socket lock's designs are the TCP ones (model/designs/tcp/).
 */
import type { Design } from '../../dsl/design.ts';
import { libsasCallerPassesGfp, libsasInInterruptGuess, orinocoGfpAtomicUnderLock, orinocoGfpKernelUnderLock } from './gfp.ts';
import { disableIrqBeforeHandlerMutex, disableIrqUnderHandlerMutex, ghesRemoveIrqWorkSyncFirst, ghesRemoveWithoutIrqWorkSync } from './irq.ts';
import { novaCleanerChecksStop, novaCleanerIgnoresStop } from './kthread.ts';
import { napiScheduleFromIrqThread, napiScheduleFromIrqThreadBhDisabled } from './napi.ts';
import { rcuFreeWithoutGracePeriod, rcuKfreeRcuAfterPublish } from './rcu.ts';
import { l2capChanHoldOnZero, l2capChanHoldUnlessZero } from './refcount.ts';
import { u64StatsReaderOverWriter, u64StatsWriterIrqsave } from './seqcount.ts';
import { ncsiCancelThenRequeue, ncsiDisableWorkSync } from './workqueue.ts';

export const DRIVER_DESIGNS: readonly Design[] = [
  l2capChanHoldOnZero, l2capChanHoldUnlessZero, // B22: kref_get on zero
  disableIrqUnderHandlerMutex, disableIrqBeforeHandlerMutex, // B32: disable_irq waits for the threaded handler
  ghesRemoveWithoutIrqWorkSync, ghesRemoveIrqWorkSyncFirst, // B36: irq_work outliving its data
  u64StatsReaderOverWriter, u64StatsWriterIrqsave, // B37: seqcount reader over its CPU's writer
  napiScheduleFromIrqThread, napiScheduleFromIrqThreadBhDisabled, // B15 through NAPI: napi_schedule from an irq thread
  rcuFreeWithoutGracePeriod, rcuKfreeRcuAfterPublish, // B40: free without a grace period
  orinocoGfpKernelUnderLock, orinocoGfpAtomicUnderLock, // B50: GFP_KERNEL under a spinlock
  libsasInInterruptGuess, libsasCallerPassesGfp, // B49: in_interrupt() to choose the GFP
  novaCleanerIgnoresStop, novaCleanerChecksStop, // B45: kthread_stop of a thread that ignores it
  ncsiCancelThenRequeue, ncsiDisableWorkSync, // B48: cancel_work_sync, then requeued
];
