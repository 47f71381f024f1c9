/**
 * Real-bug designs for the random search (issue 13): bugs that need three
 * CPUs and a long chain of deferred work, which uniform random search
 * misses or finds late. Test fixtures only (properties/explore/random.test.ts
 * and scripts/bench-random.ts), each a buggy/fixed pair like the
 * catalogue's; the fixed twins are verified exhaustively by the tests.
 */
import {
  defineDesign, inc, load, read_lock, read_lock_irqsave, read_unlock, read_unlock_irqrestore, spin_lock, spin_lock_bh,
  spin_lock_irqsave, spin_unlock, spin_unlock_bh, spin_unlock_irqrestore, v, write_lock_bh, write_unlock_bh, type Design,
} from '../../model/index.ts';
import { tasklet_schedule } from '../../model/dsl/tasklet.ts';
import { add_timer_on } from '../../model/dsl/timer.ts';
import { queue_work_on } from '../../model/dsl/workqueue.ts';

/**
 * A three-CPU deadlock through a queued rwlock, a tasklet and an irq
 * handler. cpu0: the nic interrupt schedules rx_tasklet, which reads
 * dev->rwlock with plain read_lock (irqs on); the ctl interrupt, also on
 * cpu0, takes cfg->lock. cpu1: config holds cfg->lock with irqs off and
 * reads dev->rwlock in task context. cpu2: updater write-locks dev->rwlock.
 * If the writer comes between the tasklet's read_lock and config's, it
 * waits for the tasklet's reader (_QW_WAITING), config's task-context
 * reader queues behind it, ctl interrupts the tasklet and spins on
 * cfg->lock: cpu0 → cpu1 → cpu2 → cpu0. Without the writer, config's
 * read_lock would share the lock with the tasklet and nothing would wait:
 * the cycle needs all three CPUs (lockdep's "HARDIRQ-safe → HARDIRQ-unsafe
 * lock order", B6, through a reader). kernel/locking/qrwlock.c
 * queued_read_lock_slowpath: a reader in interrupt context does not queue
 * behind a waiting writer, a task-context reader does.
 */
export const rwlockThreeCpuCycle: Design = defineDesign({
  name: 'rwlock-three-cpu-tasklet-irq-cycle',
  description:
    'B6 through a queued rwlock on three CPUs: rx_tasklet read-locks dev->rwlock on cpu0 with irqs on, the ctl interrupt on cpu0 takes cfg->lock; ' +
    'config on cpu1 read-locks dev->rwlock under cfg->lock; updater on cpu2 write-locks it, so config queues behind the waiting writer, which waits for the tasklet, which waits under ctl for cfg->lock.',
  cpus: 3,
  locks: { 'dev->rwlock': 'rwlock', 'cfg->lock': 'spinlock' },
  vars: { 'dev->rx': 0, 'cfg->ctl': 0, 'dev->gen': 0 },
  tasklets: { rx_tasklet: { func: 'rx_fn' } },
  functions: { rx_fn: [read_lock('dev->rwlock'), inc('dev->rx'), read_unlock('dev->rwlock')] },
  irqs: [
    { name: 'nic', cpus: [0], handler: [tasklet_schedule('rx_tasklet')] },
    { name: 'ctl', cpus: [0], handler: [spin_lock('cfg->lock'), inc('cfg->ctl'), spin_unlock('cfg->lock')] },
  ],
  tasks: [
    {
      name: 'config', cpu: 1,
      body: [
        spin_lock_irqsave('cfg->lock', 'flags'),
        read_lock('dev->rwlock'), load('gen', v('dev->gen')), read_unlock('dev->rwlock'),
        spin_unlock_irqrestore('cfg->lock', 'flags'),
      ],
    },
    { name: 'updater', cpu: 2, body: [write_lock_bh('dev->rwlock'), inc('dev->gen'), write_unlock_bh('dev->rwlock')] },
  ],
  expected: 'deadlock',
  twin: 'rwlock-three-cpu-tasklet-irqsave',
});

/** Fixed: the tasklet keeps irqs off while it reads dev->rwlock, so ctl never stacks on a reader. */
export const rwlockThreeCpuFixed: Design = defineDesign({
  ...rwlockThreeCpuCycle,
  name: 'rwlock-three-cpu-tasklet-irqsave',
  description:
    'The same three CPUs, but rx_tasklet reads dev->rwlock with read_lock_irqsave (B6 fixed): ctl can only come before or after the read side, ' +
    'so the writer on cpu2 always sees the tasklet drain, and config on cpu1 gets its read lock after the writer.',
  functions: { rx_fn: [read_lock_irqsave('dev->rwlock', 'flags'), inc('dev->rx'), read_unlock_irqrestore('dev->rwlock', 'flags')] },
  expected: 'verified',
  twin: 'rwlock-three-cpu-tasklet-irq-cycle',
});

/**
 * A three-lock cycle across three kinds of context on three CPUs: a task on
 * cpu0 takes A then B (BH off), the stats timer's callback on cpu1 takes B
 * then C, and a work item on cpu2 takes C then A. No two of them deadlock;
 * the three do, when each has taken its first lock before any takes its
 * second, after the timer expired (a tick on cpu0, then cpu1's tick) and
 * the kworker of cpu2 picked up the work (kernel/time/timer.c
 * expire_timers; kernel/workqueue.c process_one_work).
 */
export const threeContextCycle: Design = defineDesign({
  name: 'abc-cycle-task-timer-work',
  description:
    'B5 with three locks and three kinds of context (ABBA generalised): a task on cpu0 takes A then B, the stats timer callback on cpu1 B then C, ' +
    'a work item on cpu2 C then A; each pair is ordered, the three form a cycle cpu0 → cpu1 → cpu2 → cpu0.',
  cpus: 3,
  options: { ticks: 1 },
  locks: { A: 'spinlock', B: 'spinlock', C: 'spinlock' },
  vars: { a: 0, b: 0, c: 0 },
  timers: { stats_timer: { func: 'stats_fn' } },
  works: { gc_work: { func: 'gc_fn' } },
  functions: {
    stats_fn: [spin_lock('B'), spin_lock('C'), inc('b'), spin_unlock('C'), spin_unlock('B')],
    gc_fn: [spin_lock_bh('C'), spin_lock('A'), inc('c'), spin_unlock('A'), spin_unlock_bh('C')],
  },
  tasks: [
    { name: 'ioctl', cpu: 0, body: [spin_lock_bh('A'), spin_lock('B'), inc('a'), spin_unlock('B'), spin_unlock_bh('A')] },
    { name: 'arm', cpu: 1, body: [add_timer_on('stats_timer', 1, 1)] },
    { name: 'kick', cpu: 2, body: [queue_work_on(2, 'system_wq', 'gc_work')] },
  ],
  expected: 'deadlock',
  twin: 'abc-ordered-task-timer-work',
});

/** Fixed: the work item takes A before C, so every context follows A → B → C. */
export const threeContextOrdered: Design = defineDesign({
  ...threeContextCycle,
  name: 'abc-ordered-task-timer-work',
  description:
    'The same three contexts, but the work item takes A before C (B5 fixed): every path follows A → B → C, so no cycle can close.',
  functions: {
    ...threeContextCycle.functions,
    gc_fn: [spin_lock_bh('A'), spin_lock('C'), inc('c'), spin_unlock('C'), spin_unlock_bh('A')],
  },
  expected: 'verified',
  twin: 'abc-cycle-task-timer-work',
});

/** The pairs, buggy then fixed. */
export const REAL_BUGS: readonly Design[] = [rwlockThreeCpuCycle, rwlockThreeCpuFixed, threeContextCycle, threeContextOrdered];
