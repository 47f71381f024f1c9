/**
 * Builders and declarations for sequence counters (include/linux/seqlock.h,
 * include/linux/u64_stats_sync.h). Declare them in a design's `seqcounts`
 * field; the semantics are in model/kernel/seqcount.ts.
 *
 *   seqcounts: { 'stats->syncp': {} }                      // seqcount_t, struct u64_stats_sync
 *   seqcounts: { 'tk->seq': { lock: 'tk->lock' } }          // seqcount_spinlock_t, or a seqlock_t
 *
 * A reader loop:
 *
 *   load('retry', 1),
 *   while_(r('retry'), [
 *     read_seqcount_begin('stats->syncp', 'seq'),
 *     load('packets', v('stats->packets')),
 *     load('retry', read_seqcount_retry('stats->syncp', r('seq'))),
 *   ], { bound: 3 }),
 */
import type { Expr, Stmt } from './design.ts';

/** seqcount_t (`{}`), or seqcount_spinlock_t / seqlock_t with its serialising spinlock. */
export interface SeqcountDecl {
  readonly lock?: string;
}

/** `write_seqcount_begin(&s)`: sequence++ (odd); the writer must be serialised (lock held, or preemption off). */
export const write_seqcount_begin = (s: string): Stmt => ({ op: 'write_seqcount_begin', obj: s });
/** `write_seqcount_end(&s)`: sequence++ (even). */
export const write_seqcount_end = (s: string): Stmt => ({ op: 'write_seqcount_end', obj: s });
/** `seq = read_seqcount_begin(&s)`: spin while a write is in progress, then the sequence. */
export const read_seqcount_begin = (s: string, reg: string): Stmt => ({ op: 'read_seqcount_begin', obj: s, reg });
/** `read_seqcount_retry(&s, seq)`: the sequence moved since `seq` was read: read again. */
export const read_seqcount_retry = (s: string, seq: Expr): Expr => ({ seq_retry: s, seq });

/** `write_seqlock(&sl)`: spin_lock(&sl->lock), then write_seqcount_begin. */
export const write_seqlock = (sl: string): Stmt => ({ op: 'write_seqlock', obj: sl });
export const write_sequnlock = (sl: string): Stmt => ({ op: 'write_sequnlock', obj: sl });
export const write_seqlock_bh = (sl: string): Stmt => ({ op: 'write_seqlock_bh', obj: sl });
export const write_sequnlock_bh = (sl: string): Stmt => ({ op: 'write_sequnlock_bh', obj: sl });
export const write_seqlock_irq = (sl: string): Stmt => ({ op: 'write_seqlock_irq', obj: sl });
export const write_sequnlock_irq = (sl: string): Stmt => ({ op: 'write_sequnlock_irq', obj: sl });
export const write_seqlock_irqsave = (sl: string, flags: string): Stmt => ({ op: 'write_seqlock_irqsave', obj: sl, flags });
export const write_sequnlock_irqrestore = (sl: string, flags: string): Stmt => ({ op: 'write_sequnlock_irqrestore', obj: sl, flags });
/** `seq = read_seqbegin(&sl)`: the lockless reader of a seqlock_t. */
export const read_seqbegin = (sl: string, reg: string): Stmt => ({ op: 'read_seqbegin', obj: sl, reg });
/** `read_seqretry(&sl, seq)`. */
export const read_seqretry = (sl: string, seq: Expr): Expr => ({ seq_retry: sl, seq });

/** `u64_stats_update_begin(&syncp)` (32-bit SMP): write_seqcount_begin. */
export const u64_stats_update_begin = (syncp: string): Stmt => ({ op: 'u64_stats_update_begin', obj: syncp });
export const u64_stats_update_end = (syncp: string): Stmt => ({ op: 'u64_stats_update_end', obj: syncp });
/** `flags = u64_stats_update_begin_irqsave(&syncp)`: local_irq_save, then the write section (a writer a hardirq reader or writer can interrupt). */
export const u64_stats_update_begin_irqsave = (syncp: string, flags: string): Stmt => ({ op: 'u64_stats_update_begin_irqsave', obj: syncp, flags });
export const u64_stats_update_end_irqrestore = (syncp: string, flags: string): Stmt => ({ op: 'u64_stats_update_end_irqrestore', obj: syncp, flags });
/** `start = u64_stats_fetch_begin(&syncp)`. */
export const u64_stats_fetch_begin = (syncp: string, reg: string): Stmt => ({ op: 'u64_stats_fetch_begin', obj: syncp, reg });
/** `u64_stats_fetch_retry(&syncp, start)`. */
export const u64_stats_fetch_retry = (syncp: string, start: Expr): Expr => ({ seq_retry: syncp, seq: start });
