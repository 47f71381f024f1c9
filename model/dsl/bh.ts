/**
 * Builders and declarations for 2.2/2.4 bottom halves and task queues
 * (2.4 include/linux/interrupt.h, include/linux/tqueue.h, kernel/context.c).
 * They exist only in the '2.4' profile; the semantics are in
 * model/kernel/bh.ts.
 *
 *   bhs: { NET_BH: 'net_bh' }                   // init_bh(NET_BH, net_bh)
 *   tq_structs: { tq: { routine: 'do_it' } }    // struct tq_struct tq = { routine: do_it }
 */
import type { Stmt } from './design.ts';

/**
 * The BH slots of 2.4 include/linux/interrupt.h, in slot order, followed by
 * 2.2's NET_BH (2.4 moved the network to NET_RX/NET_TX softirqs; the slot is
 * kept so designs can show what the single-threaded NET_BH did). TIMER_BH,
 * TQUEUE_BH and IMMEDIATE_BH are the kernel's own: a design marks them but
 * cannot install handlers there.
 */
export const BH_NAMES = ['TIMER_BH', 'TQUEUE_BH', 'DIGI_BH', 'SERIAL_BH', 'RISCOM8_BH', 'SPECIALIX_BH', 'AURORA_BH', 'ESP_BH', 'SCSI_BH', 'IMMEDIATE_BH', 'CYCLADES_BH', 'CM206_BH', 'JS_BH', 'MACSERIAL_BH', 'ISICOM_BH', 'NET_BH'] as const;
export type BhName = (typeof BH_NAMES)[number];

/** A tq_struct: its routine, by design function name. */
export interface TqStructDecl {
  readonly routine: string;
}

/** The kernel's task queues a design can name (tq_context is kernel/context.c's own: use schedule_task). */
export type TaskQueueName = 'tq_immediate' | 'tq_timer' | 'tq_disk';

/** `mark_bh(nr)`: tasklet_hi_schedule of the BH's tasklet on this CPU; runs the handler in HI softirq context. */
export const mark_bh = (bh: BhName): Stmt => ({ op: 'mark_bh', obj: bh });

/**
 * `queue_task(&tq, &queue)`: queue `tq` unless its sync bit says it already
 * is. `ret` names a register that receives 1 if it was queued, else 0.
 * tq_immediate runs from IMMEDIATE_BH (mark_bh it), tq_timer from TQUEUE_BH
 * at the next tick, tq_disk where run_task_queue(&tq_disk) is called.
 */
export const queue_task = (tq: string, queue: TaskQueueName, ret?: string): Stmt =>
  (ret === undefined ? { op: 'queue_task', obj: tq, target: queue } : { op: 'queue_task', obj: tq, target: queue, reg: ret });

/** `run_task_queue(&queue)`: run every entry queued so far, in the caller's context. */
export const run_task_queue = (queue: TaskQueueName): Stmt => ({ op: 'run_task_queue', target: queue });

/** `schedule_task(&tq)`: queue `tq` for keventd, which runs it in process context (it may sleep). */
export const schedule_task = (tq: string, ret?: string): Stmt =>
  (ret === undefined ? { op: 'schedule_task', obj: tq } : { op: 'schedule_task', obj: tq, reg: ret });

/** `flush_scheduled_tasks()`: sleep until keventd has run every task scheduled before. */
export const flush_scheduled_tasks = (): Stmt => ({ op: 'flush_scheduled_tasks' });
