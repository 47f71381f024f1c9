/**
 * Builders and declarations for work queues (include/linux/workqueue.h).
 * Declare work items in `works` and work queues in `workqueues`; the kernel's
 * system_wq exists without a declaration.
 */

export type WorkqueueFlag = 'UNBOUND' | 'ORDERED' | 'HIGHPRI' | 'MEM_RECLAIM' | 'FREEZABLE';

/** alloc_workqueue(name, flags, max_active) / alloc_ordered_workqueue. */
export interface WorkqueueDecl {
  readonly flags?: readonly WorkqueueFlag[];
  readonly max_active?: number;
}

/** INIT_WORK / INIT_DELAYED_WORK: the work function, by design function name. */
export interface WorkDecl {
  readonly func: string;
  readonly delayed?: boolean;
}
