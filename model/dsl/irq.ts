/**
 * Builders for interrupt lines and irq_work (kernel/irq/manage.c,
 * kernel/irq_work.c). A line is declared in the design's `irqs` (its
 * handler, a `thread` for request_threaded_irq, `flags`, and `start:
 * 'request_irq'` for a line that fires only once requested); these act on
 * it by name. irq_works are declared in `irq_works: { name: { func } }`.
 * The semantics are in model/kernel/irq.ts and model/kernel/irq_work.ts.
 */
import type { Stmt } from './design.ts';

/** `request_irq(irq, handler, flags, name, dev)`: install the line's handler; it may fire at once. Sleeps. */
export const request_irq = (line: string): Stmt => ({ op: 'request_irq', target: line });
/** `request_threaded_irq(irq, handler, thread_fn, flags, name, dev)`: the same; the line's `thread` runs in `irq/N-name`. */
export const request_threaded_irq = (line: string): Stmt => ({ op: 'request_threaded_irq', target: line });
/** `free_irq(irq, dev)`: the line stops firing; waits for a running handler (any CPU) and its thread function. Sleeps. */
export const free_irq = (line: string): Stmt => ({ op: 'free_irq', target: line });
/** `disable_irq(irq)`: depth++, then synchronize_irq. Sleeps (might_sleep since 6.2). */
export const disable_irq = (line: string): Stmt => ({ op: 'disable_irq', target: line });
/** `disable_irq_nosync(irq)`: depth++; a handler running elsewhere may still be running. Any context. */
export const disable_irq_nosync = (line: string): Stmt => ({ op: 'disable_irq_nosync', target: line });
/** `enable_irq(irq)`: depth--; at 0 the line fires again. */
export const enable_irq = (line: string): Stmt => ({ op: 'enable_irq', target: line });
/** `synchronize_irq(irq)`: wait for a running handler, then sleep until the thread function has finished. */
export const synchronize_irq = (line: string): Stmt => ({ op: 'synchronize_irq', target: line });
/** `synchronize_hardirq(irq)`: spin while a handler runs; `ret`: 1 if no thread function is active. Any context. */
export const synchronize_hardirq = (line: string, ret?: string): Stmt => (ret === undefined ? { op: 'synchronize_hardirq', target: line } : { op: 'synchronize_hardirq', target: line, reg: ret });

/** irq_work: `init_irq_work(&w, func)`, by design function name. */
export interface IrqWorkDecl {
  readonly func: string;
}
/** `irq_work_queue(&w)`: run func in hardirq context on this CPU soon (self-IPI); false if already pending. */
export const irq_work_queue = (w: string, ret?: string): Stmt => (ret === undefined ? { op: 'irq_work_queue', obj: w } : { op: 'irq_work_queue', obj: w, reg: ret });
/** `irq_work_sync(&w)`: spin until func is not running (irqs must be on). */
export const irq_work_sync = (w: string): Stmt => ({ op: 'irq_work_sync', obj: w });
