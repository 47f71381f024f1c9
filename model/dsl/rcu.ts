/**
 * Builders and declarations for RCU (include/linux/rcupdate.h). Declare
 * the rcu_heads that call_rcu and kfree_rcu use in a design's `rcu_heads`
 * field (each inside the struct it frees); the semantics are in
 * model/kernel/rcu.ts.
 *
 *   structs: { p: { members: ['p->x', 'p->rcu'] } },
 *   rcu_heads: { 'p->rcu': {} },
 *   … kfree_rcu('p', 'p->rcu') …
 */
import type { Expr, Stmt } from './design.ts';

/** `rcu_read_lock()`: a read-side critical section (preempt_disable, or a preemptible reader under PREEMPT_RCU). */
export const rcu_read_lock = (): Stmt => ({ op: 'rcu_read_lock' });
export const rcu_read_unlock = (): Stmt => ({ op: 'rcu_read_unlock' });
/** `rcu_read_lock_bh()`: local_bh_disable plus an RCU-bh reader. */
export const rcu_read_lock_bh = (): Stmt => ({ op: 'rcu_read_lock_bh' });
/** `rcu_read_unlock_bh()`: local_bh_enable (a softirq run point). */
export const rcu_read_unlock_bh = (): Stmt => ({ op: 'rcu_read_unlock_bh' });
/** `reg = rcu_dereference(p)`: a load, checked by lockdep-RCU (the reader must hold rcu_read_lock). */
export const rcu_dereference = (reg: string, p: string): Stmt => ({ op: 'rcu_dereference', reg, var: p });
/** `reg = rcu_dereference_bh(p)`: in softirq, with BH or irqs disabled. */
export const rcu_dereference_bh = (reg: string, p: string): Stmt => ({ op: 'rcu_dereference_bh', reg, var: p });
/** `reg = rcu_dereference_protected(p, cond)`: the updater's read, under its lock (no check). */
export const rcu_dereference_protected = (reg: string, p: string): Stmt => ({ op: 'rcu_dereference_protected', reg, var: p });
/** `rcu_assign_pointer(p, v)`: publish. */
export const rcu_assign_pointer = (p: string, value: Expr): Stmt => ({ op: 'rcu_assign_pointer', var: p, value });
/** `synchronize_rcu()`: sleep until every reader that started before it has ended. */
export const synchronize_rcu = (): Stmt => ({ op: 'synchronize_rcu' });
/** `synchronize_net()`: synchronize_rcu (or its expedited form). */
export const synchronize_net = (): Stmt => ({ op: 'synchronize_net' });
/** `call_rcu(&head, func)`: run the design function `func` in RCU_SOFTIRQ on this CPU after a grace period. */
export const call_rcu = (head: string, func: string): Stmt => ({ op: 'call_rcu', obj: head, fn: func });
/** `kfree_rcu(p, rhf)`: kfree the struct `p` after a grace period, through its rcu_head `head`. */
export const kfree_rcu = (struct: string, head: string): Stmt => ({ op: 'kfree_rcu', target: struct, obj: head });
/** `rcu_barrier()`: sleep until every callback queued so far has run. */
export const rcu_barrier = (): Stmt => ({ op: 'rcu_barrier' });
