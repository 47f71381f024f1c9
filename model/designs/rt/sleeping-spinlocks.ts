/**
 * PREEMPT_RT (shared/kernel-semantics-rt.md §1.2, §1.9; kernel/locking/
 * spinlock_rt.c rt_spin_lock, rtlock_might_resched; include/linux/
 * spinlock_rt.h): spinlock_t is a sleeping rt_mutex lock, raw_spinlock_t
 * still spins. The same code gets different verdicts on 6.12 and on
 * 6.12 PREEMPT_RT exactly where the kernels differ.
 */
import {
  defineDesign, inc, local_irq_disable, local_irq_enable, spin_lock, spin_lock_bh,
  spin_lock_irqsave, spin_unlock, spin_unlock_bh, spin_unlock_irqrestore,
} from '../../dsl/design.ts';
import { raw_spin_lock, raw_spin_unlock } from '../../dsl/raw_spinlock.ts';

/**
 * B51: irqs off, then spin_lock. On !RT the spinlock spins with irqs off,
 * which is fine; on RT spin_lock is rt_spin_lock, whose
 * rtlock_might_resched() sees irqs disabled: "BUG: sleeping function called
 * from invalid context", whether or not the lock is contended.
 */
export const rtSpinLockIrqsOff = defineDesign({
  name: 'rt-spin-lock-irqs-off',
  description:
    'A driver disables irqs by hand, then takes its spinlock_t L (local_irq_disable(); spin_lock(&L)). On PREEMPT_RT spin_lock is a sleeping rt_mutex lock ' +
    'and rtlock_might_resched() finds irqs disabled: "BUG: sleeping function called from invalid context" (B51). The same code is correct on 6.12 without RT.',
  profile: '6.12-rt',
  cpus: 2,
  locks: { L: 'spinlock' },
  vars: { x: 0 },
  tasks: [
    { name: 'driver', cpu: 0, body: [local_irq_disable(), spin_lock('L'), inc('x'), spin_unlock('L'), local_irq_enable()] },
    { name: 'other', cpu: 1, body: [spin_lock('L'), inc('x'), spin_unlock('L')] },
  ],
  expected: 'sleep-in-atomic',
  twin: 'rt-spin-lock-irqsave',
});

/** The same code on 6.12 !RT (tests only): a spinning lock with irqs off is legal. Verified. */
export const rtSpinLockIrqsOff612 = defineDesign({
  ...rtSpinLockIrqsOff,
  name: 'rt-spin-lock-irqs-off-v6_12',
  description: 'The B51 driver on 6.12 without PREEMPT_RT: spin_lock spins, and taking it with irqs disabled is legal. Verified.',
  profile: '6.12',
  expected: 'verified',
  twin: 'rt-spin-lock-irqs-off',
});

/** The RT fix of B51: spin_lock_irqsave, which on RT takes the sleeping lock and leaves irqs on. */
export const rtSpinLockIrqsave = defineDesign({
  ...rtSpinLockIrqsOff,
  name: 'rt-spin-lock-irqsave',
  description:
    'The B51 fix on PREEMPT_RT: spin_lock_irqsave(&L, flags) instead of local_irq_disable(); spin_lock(&L). On RT it takes the rt_mutex with irqs left on ' +
    '(flags = 0), so the lock may sleep; the other CPU\'s task contends and sleeps until the holder unlocks. Verified.',
  tasks: [
    { name: 'driver', cpu: 0, body: [spin_lock_irqsave('L', 'flags'), inc('x'), spin_unlock_irqrestore('L', 'flags')] },
    { name: 'other', cpu: 1, body: [spin_lock('L'), inc('x'), spin_unlock('L')] },
  ],
  expected: 'verified',
  twin: 'rt-spin-lock-irqs-off',
});

/**
 * B51 under a raw spinlock: raw_spin_lock(&R); spin_lock(&L). On RT R
 * raises preempt_count, and rt_spin_lock(&L) is a sleeping lock inside an
 * atomic section.
 */
export const rtSpinLockUnderRaw = defineDesign({
  name: 'rt-spin-lock-under-raw',
  description:
    'A spinlock_t L nested inside a raw_spinlock_t R (raw_spin_lock(&R); spin_lock(&L)). On PREEMPT_RT R disables preemption and L sleeps: ' +
    '"BUG: sleeping function called from invalid context" (B51; lockdep with PROVE_RAW_LOCK_NESTING also says "Invalid wait context" on !RT, which kdefer does not model). ' +
    'Correct at run time on 6.12 without RT.',
  profile: '6.12-rt',
  cpus: 2,
  locks: { R: 'raw_spinlock', L: 'spinlock' },
  vars: { x: 0 },
  tasks: [
    { name: 'outer', cpu: 0, body: [raw_spin_lock('R'), spin_lock('L'), inc('x'), spin_unlock('L'), raw_spin_unlock('R')] },
    { name: 'inner', cpu: 1, body: [spin_lock('L'), inc('x'), spin_unlock('L')] },
  ],
  expected: 'sleep-in-atomic',
  twin: 'rt-spin-lock-under-raw-v6_12',
});

/** The same nesting on 6.12 !RT: two spinning locks, taken in one order. Verified. */
export const rtSpinLockUnderRaw612 = defineDesign({
  ...rtSpinLockUnderRaw,
  name: 'rt-spin-lock-under-raw-v6_12',
  description: 'The B51 nesting (a spinlock_t inside a raw_spinlock_t) on 6.12 without PREEMPT_RT: both locks spin, always in one order, so there is no deadlock. Verified.',
  profile: '6.12',
  expected: 'verified',
  twin: 'rt-spin-lock-under-raw',
});

/**
 * B57, the reverse direction: spin_lock_irqsave(&A); spin_lock_bh(&B);
 * spin_unlock_bh(&B). On !RT spin_unlock_bh reaches __local_bh_enable_ip
 * with irqs disabled (lockdep_assert_irqs_enabled: softirqs would run with
 * irqs off). On RT spin_lock_irqsave never disabled irqs, so the same code
 * is fine. An RT-only test run misses the !RT bug.
 */
export const bhUnderIrqsave = defineDesign({
  name: 'bh-under-irqsave-v6_12',
  description:
    'spin_unlock_bh(&B) inside spin_lock_irqsave(&A): on 6.12 without RT, __local_bh_enable_ip runs with irqs disabled (WARN, and pending softirqs would run with irqs off; B16/B57). ' +
    'On PREEMPT_RT the same code is correct: spin_lock_irqsave leaves irqs on.',
  profile: '6.12',
  cpus: 1,
  locks: { A: 'spinlock', B: 'spinlock' },
  vars: { x: 0 },
  tasks: [
    { name: 'nested', cpu: 0, body: [spin_lock_irqsave('A', 'flags'), spin_lock_bh('B'), inc('x'), spin_unlock_bh('B'), spin_unlock_irqrestore('A', 'flags')] },
  ],
  expected: 'bad-bh-enable',
  twin: 'bh-under-irqsave-rt',
});

/** The same code on PREEMPT_RT: irqs stay on under spin_lock_irqsave, local_bh_enable is legal. Verified. */
export const bhUnderIrqsaveRt = defineDesign({
  ...bhUnderIrqsave,
  name: 'bh-under-irqsave-rt',
  description: 'The B57 nesting on 6.12 PREEMPT_RT: spin_lock_irqsave(&A) takes a sleeping lock and leaves irqs on, so spin_unlock_bh(&B) may run softirqs. Verified.',
  profile: '6.12-rt',
  expected: 'verified',
  twin: 'bh-under-irqsave-v6_12',
});
