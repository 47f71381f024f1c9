/**
 * B21 for a tasklet (shared/kernel-semantics.md §8): a tasklet function
 * that returns with bottom halves still disabled.
 */
import { defineDesign, inc, spin_lock, spin_lock_bh, spin_unlock, spin_unlock_bh } from '../../dsl/design.ts';
import { tasklet_schedule } from '../../dsl/tasklet.ts';

/** B21: spin_lock_bh … spin_unlock in the tasklet leaves the bh count raised. */
export const taskletLeaksBhDisable = defineDesign({
  name: 'tasklet-returns-with-bh-disabled',
  description:
    'The tx completion tasklet takes the ring lock with spin_lock_bh() but releases it with a plain spin_unlock() (B21). ' +
    'The lock is free again, but the softirq-disable count stays raised when the function returns: the kernel repairs it at the end of the softirq and complains, ' +
    '"huh, entered softirq 6 TASKLET … with preempt_count 00000100, exited with 00000300?".',
  cpus: 1,
  locks: { 'ring->lock': 'spinlock' },
  vars: { completed: 0, queued: 0 },
  functions: { tx_complete: [spin_lock_bh('ring->lock'), inc('completed'), spin_unlock('ring->lock')] },
  tasklets: { tx_tasklet: { func: 'tx_complete' } },
  tasks: [{ name: 'xmit', cpu: 0, replicable: true, body: [spin_lock_bh('ring->lock'), inc('queued'), spin_unlock_bh('ring->lock')] }],
  irqs: [{ name: 'eth0', handler: [tasklet_schedule('tx_tasklet')], budget: 1 }],
  expected: 'lock-leak',
  twin: 'tasklet-returns-balanced',
});

/** Fixed: in softirq context bottom halves are already off; plain spin_lock/spin_unlock. */
export const taskletBalanced = defineDesign({
  ...taskletLeaksBhDisable,
  name: 'tasklet-returns-balanced',
  description:
    'The tasklet takes the ring lock with plain spin_lock()/spin_unlock() (B21 fixed): a tasklet already runs with bottom halves off, ' +
    'and the process-context side keeps spin_lock_bh, so the tasklet cannot run over it on its CPU.',
  functions: { tx_complete: [spin_lock('ring->lock'), inc('completed'), spin_unlock('ring->lock')] },
  expected: 'verified',
  twin: 'tasklet-returns-with-bh-disabled',
});
