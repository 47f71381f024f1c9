/**
 * Wilcox §2, per-CPU data: "If only the local CPU touches the data, then
 * disabling interrupts (using local_irq_disable() or local_irq_save(flags))
 * is sufficient to ensure data structure integrity."
 * Two ways it breaks: the task migrates between reading and writing its
 * CPU's copy, or the interrupt handler is not the only other user.
 */
import {
  add, defineDesign, eq, inc, load, local_irq_restore, local_irq_save, per_cpu, per_cpu_sum, per_cpu_write, r, spin_lock_irqsave,
  spin_unlock_irqrestore, this_cpu_inc, this_cpu_read, this_cpu_write, v,
} from '../../dsl/design.ts';

/**
 * Every update adds one to some CPU's copy: the copies add up to the
 * updates made (a ghost counter, bumped once per update), however many
 * CPUs, interrupts and tasks there are.
 */
const counted = [{ name: 'every packet counted once', holds: eq(per_cpu_sum('rx_packets'), v('packets')), when: 'at-end' as const, kind: 'data-race' as const }];
/** The nic interrupt counts its packet on its CPU. */
const nic = { name: 'nic', handler: [this_cpu_inc('rx_packets'), inc('packets')], budget: 2 };

/** Read-modify-write of this CPU's copy with nothing disabled: preemption and migration fall in between. */
export const percpuMigration = defineDesign({
  name: 'wilcox-percpu-unprotected-migrates',
  description:
    'Wilcox §2 per-CPU data: a task updates this CPU\'s rx_packets copy with a plain read and write, interrupts and preemption enabled, ' +
    'while the interrupt handler counts on each CPU. Under CONFIG_PREEMPT the task can be preempted between the read and the write and moved to the other CPU, ' +
    'where it overwrites that CPU\'s count with its stale value: a lost update.',
  cpus: 2,
  options: { preempt: 'full' },
  vars: { packets: 0 },
  percpu: { rx_packets: 0 },
  tasks: [
    { name: 'poll', cpu: 0, replicable: true, allowed: [0, 1], body: [load('n', this_cpu_read('rx_packets')), this_cpu_write('rx_packets', add(r('n'), 1)), inc('packets')] },
    { name: 'other', cpu: 0, body: [] },
  ],
  irqs: [nic],
  invariants: counted,
  expected: 'data-race',
  twin: 'wilcox-percpu-irqsave',
});

/** Fixed: local_irq_save keeps both the interrupt and preemption (hence migration) away. */
export const percpuIrqsave = defineDesign({
  name: 'wilcox-percpu-irqsave',
  description:
    'Wilcox §2 per-CPU data fixed: the task brackets its read-modify-write with local_irq_save/local_irq_restore. ' +
    'With interrupts off neither the handler nor a preemption can come in, so the task cannot migrate mid-update and every packet is counted once.',
  cpus: 2,
  options: { preempt: 'full' },
  vars: { packets: 0 },
  percpu: { rx_packets: 0 },
  tasks: [
    {
      name: 'poll', cpu: 0, replicable: true, allowed: [0, 1],
      body: [local_irq_save('flags'), load('n', this_cpu_read('rx_packets')), this_cpu_write('rx_packets', add(r('n'), 1)), inc('packets'), local_irq_restore('flags')],
    },
    { name: 'other', cpu: 0, body: [] },
  ],
  irqs: [nic],
  invariants: counted,
  expected: 'verified',
  twin: 'wilcox-percpu-unprotected-migrates',
});

/** Every update adds one, to cpu0's copy or the updater's own: the copies add up to the updates made (a ghost counter). */
const allUpdatesCounted = [{ name: 'every update counted once', holds: eq(per_cpu_sum('rx_packets'), v('updates')), when: 'at-end' as const, kind: 'data-race' as const }];

/** local_irq_save only guards against this CPU: a remote user of per_cpu(x, 0) is not stopped. */
export const percpuRemoteUser = defineDesign({
  name: 'wilcox-percpu-remote-user',
  description:
    'Wilcox §2 per-CPU data, second caveat: local_irq_save is enough only "if only the local CPU touches the data". ' +
    'Here a task on cpu1 also updates cpu0\'s copy through per_cpu(rx_packets, 0); disabling interrupts on cpu0 does not stop cpu1, and an update is lost.',
  cpus: 2,
  vars: { updates: 0 },
  percpu: { rx_packets: 0 },
  tasks: [
    { name: 'local', cpu: 0, replicable: true, body: [local_irq_save('flags'), load('n', this_cpu_read('rx_packets')), this_cpu_write('rx_packets', add(r('n'), 1)), inc('updates'), local_irq_restore('flags')] },
    { name: 'remote', cpu: 1, replicable: true, body: [local_irq_save('flags'), load('n', per_cpu('rx_packets', 0)), per_cpu_write('rx_packets', 0, add(r('n'), 1)), inc('updates'), local_irq_restore('flags')] },
  ],
  invariants: allUpdatesCounted,
  expected: 'data-race',
  twin: 'wilcox-percpu-remote-user-locked',
});

/** Fixed: data shared across CPUs needs a lock, not just local interrupt masking. */
export const percpuRemoteUserLocked = defineDesign({
  name: 'wilcox-percpu-remote-user-locked',
  description:
    'Wilcox §2 per-CPU data, second caveat fixed: once another CPU touches cpu0\'s copy the data is shared, and both sides take a spinlock (irqsave, as the copy is also interrupt data). ' +
    'Every update is counted.',
  cpus: 2,
  locks: { 'stats_lock': 'spinlock' },
  vars: { updates: 0 },
  percpu: { rx_packets: 0 },
  tasks: [
    {
      name: 'local', cpu: 0, replicable: true,
      body: [spin_lock_irqsave('stats_lock', 'flags'), load('n', this_cpu_read('rx_packets')), this_cpu_write('rx_packets', add(r('n'), 1)), inc('updates'), spin_unlock_irqrestore('stats_lock', 'flags')],
    },
    {
      name: 'remote', cpu: 1, replicable: true,
      body: [spin_lock_irqsave('stats_lock', 'flags'), load('n', per_cpu('rx_packets', 0)), per_cpu_write('rx_packets', 0, add(r('n'), 1)), inc('updates'), spin_unlock_irqrestore('stats_lock', 'flags')],
    },
  ],
  invariants: allUpdatesCounted,
  expected: 'verified',
  twin: 'wilcox-percpu-remote-user',
});
