/**
 * T1 (shared/kernel-semantics.md §3.2; Wilcox, "I'll Do It Later", §4):
 * the same softirq runs on several CPUs at once, a tasklet never runs
 * concurrently with itself. The same unguarded completion handler as a
 * BLOCK softirq and as a tasklet.
 */
import { BUG_ON, dec, defineDesign, inc, raise_softirq, v, type Stmt } from '../../dsl/design.ts';
import { tasklet_schedule } from '../../dsl/tasklet.ts';

/** Completion processing with no lock: `in_flight` detects two CPUs inside it at once. */
const complete: readonly Stmt[] = [BUG_ON(v('in_flight'), 'two CPUs complete requests at once'), inc('in_flight'), inc('completed'), dec('in_flight')];

/** T1 counterpart: the handler as a softirq vector, raised on whichever CPU takes the interrupt. */
export const completionSoftirqUnguarded = defineDesign({
  name: 'completion-softirq-unguarded',
  description:
    'A disk controller interrupt, delivered to either CPU, raises BLOCK_SOFTIRQ, and the completion handler updates the driver\'s counters with no lock. ' +
    'The same vector runs on several CPUs at once (Wilcox: softirqs need their own locking), which a tasklet never does (T1): ' +
    'two interrupts on two CPUs run the handler in parallel and the BUG_ON sees the other CPU inside it.',
  cpus: 2,
  vars: { in_flight: 0, completed: 0 },
  softirqs: { BLOCK: complete },
  tasks: [],
  irqs: [{ name: 'ahci', handler: [raise_softirq('BLOCK')], budget: 2 }],
  expected: 'assertion',
  twin: 'completion-tasklet-unguarded',
});

/** T1: the same handler as a tasklet is serialised against itself by its RUN bit. */
export const completionTaskletUnguarded = defineDesign({
  name: 'completion-tasklet-unguarded',
  description:
    'The same completion handler, still without a lock, run as a tasklet scheduled from the interrupt on whichever CPU takes it. ' +
    'A tasklet never runs on two CPUs at once (T1, the RUN bit): a second CPU that finds it running requeues it and runs it after the first CPU finishes, ' +
    'so data touched only by the tasklet needs no lock (Wilcox).',
  cpus: 2,
  vars: { in_flight: 0, completed: 0 },
  functions: { ahci_complete: complete },
  tasklets: { ahci_tasklet: { func: 'ahci_complete' } },
  tasks: [],
  irqs: [{ name: 'ahci', handler: [tasklet_schedule('ahci_tasklet')], budget: 2 }],
  expected: 'verified',
  twin: 'completion-softirq-unguarded',
});
