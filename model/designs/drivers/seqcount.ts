/**
 * B37, a seqcount reader over its own CPU's writer
 * (shared/kernel-semantics-drivers.md D5.4; include/linux/u64_stats_sync.h,
 * whose header says a writer must disable interrupts when a reader or
 * another writer can run in irq context, and provides
 * u64_stats_update_begin_irqsave for it). On 32-bit SMP u64_stats_sync is a
 * seqcount: a reader that interrupted the writer on the same CPU spins in
 * u64_stats_fetch_begin while the count is odd, and the writer cannot
 * finish until the reader returns. The kernel calls it a livelock; the
 * model reports it as a deadlock with its cycle (model/kernel/seqcount.ts).
 * The same family as the virtio_net rq->stats report by Thomas Gleixner
 * (LKML, 2021), where try_fill_recv updated the stats from process context
 * with BH on and from NAPI: local_bh_disable or the _irqsave writer.
 */
import { add, defineDesign, inc, load, preempt_disable, preempt_enable, r, v, while_, type Design, type Stmt } from '../../dsl/design.ts';
import {
  u64_stats_fetch_begin, u64_stats_fetch_retry, u64_stats_update_begin, u64_stats_update_begin_irqsave, u64_stats_update_end,
  u64_stats_update_end_irqrestore,
} from '../../dsl/seqcount.ts';

/** The writer, in process context: the xmit completion path counting packets. */
const writer = (irqsave: boolean): readonly Stmt[] => irqsave
  ? [u64_stats_update_begin_irqsave('stats->syncp', 'flags'), inc('stats->tx_packets'), inc('stats->tx_bytes'), u64_stats_update_end_irqrestore('stats->syncp', 'flags')]
  : [preempt_disable(), u64_stats_update_begin('stats->syncp'), inc('stats->tx_packets'), inc('stats->tx_bytes'), u64_stats_update_end('stats->syncp'), preempt_enable()];

/** The reader, in the hardirq (the stats snapshot the interrupt handler takes): retry until a stable pair. */
const reader: readonly Stmt[] = [
  load('retry', 1),
  while_(r('retry'), [
    u64_stats_fetch_begin('stats->syncp', 'start'),
    load('sum', add(v('stats->tx_packets'), v('stats->tx_bytes'))),
    load('retry', u64_stats_fetch_retry('stats->syncp', r('start'))),
  ], { bound: 2 }),
];

/** B37: the hardirq reader comes in the middle of its CPU's write section. */
export const u64StatsReaderOverWriter: Design = defineDesign({
  name: 'u64_stats-hardirq-reader-over-writer',
  description:
    "A 32-bit SMP driver's tx path updates its u64_stats with u64_stats_update_begin, preemption off but irqs on, and its interrupt handler reads the same stats (B37). " +
    'The interrupt comes on the writer\'s CPU inside the write section: u64_stats_fetch_begin spins while the sequence is odd, and the writer below it cannot run to end the section: ' +
    'the CPU livelocks for ever, reported as a deadlock.',
  cpus: 1,
  vars: { 'stats->tx_packets': 0, 'stats->tx_bytes': 0 },
  seqcounts: { 'stats->syncp': {} },
  tasks: [{ name: 'xmit_done', cpu: 0, body: writer(false) }],
  irqs: [{ name: 'eth0', handler: reader }],
  expected: 'deadlock',
  twin: 'u64_stats-writer-irqsave',
});

/** Fixed: the writer keeps irqs off around its section (u64_stats_update_begin_irqsave). */
export const u64StatsWriterIrqsave: Design = defineDesign({
  ...u64StatsReaderOverWriter,
  name: 'u64_stats-writer-irqsave',
  description:
    'The same tx path with u64_stats_update_begin_irqsave / u64_stats_update_end_irqrestore (B37 fixed, the u64_stats_sync.h rule for readers in irq context): ' +
    'the interrupt comes only before or after the write section, and its reader finds an even sequence.',
  tasks: [{ name: 'xmit_done', cpu: 0, body: writer(true) }],
  expected: 'verified',
  twin: 'u64_stats-hardirq-reader-over-writer',
});
