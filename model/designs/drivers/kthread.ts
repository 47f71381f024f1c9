/**
 * B45, stopping a thread whose sleep ignores kthread_should_stop
 * (shared/kernel-semantics-drivers.md D8.3), as reported for the NOVA file
 * system (NVSL/linux-nova issue #156, 2024): nova_save_snapshots stops the
 * snapshot cleaner with kthread_stop at unmount, but the cleaner's
 * try-sleeping loop goes back to sleep when woken without work, so the
 * wake_up_process of kthread_stop is lost and unmount hangs. The proposed
 * fix does not schedule out once kthread_should_stop() is true:
 * wait_event(wq, need_clean || kthread_should_stop()).
 *
 * The thread is started by the mount task with kthread_run, and the
 * unmount task runs after mount (`after: 'nova_fill_super'`), with no
 * completion between them.
 */
import { assign, defineDesign, if_, not, or, v, wait_event, while_, type Design, type Expr } from '../../dsl/design.ts';
import { kthread_run, kthread_should_stop, kthread_stop } from '../../dsl/kthread.ts';

/** The cleaner thread: sleep until there is work (or, fixed, a stop), clean, again. */
const cleaner = (wake: Expr) => ({
  name: 'nova_snapshot_cleaner',
  cpu: 1,
  start: 'kthread_run' as const,
  body: [
    while_(not(kthread_should_stop()), [
      wait_event('sbi->snapshot_cleaner_wait', wake),
      if_(v('sbi->need_clean'), [assign('sbi->need_clean', 0)]),
    ], { bound: 2 }),
  ],
});

const mountUnmount = [
  { name: 'nova_fill_super', cpu: 0, body: [kthread_run('nova_snapshot_cleaner')] },
  { name: 'nova_put_super', cpu: 0, after: 'nova_fill_super', body: [kthread_stop('nova_snapshot_cleaner')] },
];

/** B45: the cleaner sleeps on need_clean alone. */
export const novaCleanerIgnoresStop: Design = defineDesign({
  name: 'nova-cleaner-ignores-kthread_should_stop',
  description:
    "NOVA's snapshot cleaner as reported in NVSL/linux-nova issue #156 (B45): mount starts it with kthread_run and unmount stops it with kthread_stop. The cleaner sleeps until need_clean; " +
    'kthread_stop sets KTHREAD_SHOULD_STOP and wakes it, but its wait re-checks need_clean alone, finds it false and sleeps again, so kthread_stop waits for an exit that never comes: unmount hangs.',
  cpus: 2,
  vars: { 'sbi->need_clean': 0 },
  waitqueues: { 'sbi->snapshot_cleaner_wait': {} },
  tasks: [cleaner(v('sbi->need_clean')), ...mountUnmount],
  expected: 'hung-task',
  twin: 'nova-cleaner-checks-kthread_should_stop',
});

/** Fixed: the wait ends on a stop too. */
export const novaCleanerChecksStop: Design = defineDesign({
  ...novaCleanerIgnoresStop,
  name: 'nova-cleaner-checks-kthread_should_stop',
  description:
    "The same cleaner with the issue's fix (B45 fixed): it sleeps on need_clean || kthread_should_stop(), so the wake-up from kthread_stop ends the wait, the loop sees the stop and the thread returns; " +
    'kthread_stop then returns to the unmount, whether the thread was sleeping, running, or not yet started.',
  tasks: [cleaner(or(v('sbi->need_clean'), kthread_should_stop())), ...mountUnmount],
  expected: 'verified',
  twin: 'nova-cleaner-ignores-kthread_should_stop',
});
