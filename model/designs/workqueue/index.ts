/** Catalogue designs of the workqueue area, buggy then fixed, pair by pair. */
import type { Design } from '../../dsl/design.ts';
import { workReturnsWithMutexHeld, workUnlocksOnEveryPath } from './callback-leak.ts';
import {
  dependentItemOnItsOwnWorkqueue, flushWorkAfterMutexUnlock, flushWorkAfterSpinUnlock, flushWorkUnderMutex, flushWorkUnderSpinLock,
  keventdItemWaitsForLaterItem, kworkerItemWaitsForLaterItem, orderedWqItemWaitsForLaterItem, unboundWqItemWaitsForLaterItem,
  unboundWqSecondCallerExhaustsMaxActive, workFlushedByItsOwner, workFlushesItself,
} from './flush.ts';
import { memReclaimFlushesOwnReclaimWq, memReclaimFlushesSystemWq } from './mem-reclaim.ts';
import { wqThirdWorker, wqThirdWorkerCompletes } from './pool-growth.ts';
import { workQueuedOnTwoWorkqueues, workRequeuedOnItsWorkqueue } from './reentrancy.ts';
import { tqJobAsWorkItem, tqJobInTqImmediate } from './task-queues.ts';
import {
  cancelDelayedWorkSyncBeforeDestroyWorkqueue, cancelWorkSyncThenKfree, cancelWorkThenKfree, destroyWorkqueueWithDelayedWorkArmed,
} from './teardown.ts';

export const WORKQUEUE_DESIGNS: readonly Design[] = [
  flushWorkUnderMutex, flushWorkAfterMutexUnlock, // B11
  workFlushesItself, workFlushedByItsOwner, // B12, self-flush
  orderedWqItemWaitsForLaterItem, unboundWqItemWaitsForLaterItem, // B12, ordered workqueue
  unboundWqSecondCallerExhaustsMaxActive, dependentItemOnItsOwnWorkqueue, // B12, max_active used up by a second caller (issue 14)
  keventdItemWaitsForLaterItem, kworkerItemWaitsForLaterItem, // B12, pre-cmwq keventd (wqModel per-wq-threads)
  flushWorkUnderSpinLock, flushWorkAfterSpinUnlock, // B13
  workReturnsWithMutexHeld, workUnlocksOnEveryPath, // B21
  destroyWorkqueueWithDelayedWorkArmed, cancelDelayedWorkSyncBeforeDestroyWorkqueue, // B10, delayed work
  cancelWorkThenKfree, cancelWorkSyncThenKfree, // B10, cancel_work
  workQueuedOnTwoWorkqueues, workRequeuedOnItsWorkqueue, // W1 counter-example
  tqJobInTqImmediate, tqJobAsWorkItem, // issue 5: task queues → work queues
  wqThirdWorker, wqThirdWorkerCompletes, // pools grow while their kworkers sleep (kick_pool, create_worker)
  memReclaimFlushesSystemWq, memReclaimFlushesOwnReclaimWq, // B66: memory pressure, rescuers
];
