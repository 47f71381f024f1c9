/**
 * Builders and declarations for NAPI (include/linux/netdevice.h,
 * net/core/dev.c). Declare each NAPI instance in a design's `napis` field
 * with its poll function; the semantics are in model/kernel/napi.ts.
 *
 *   napis: { 'priv->napi': { poll: 'rx_poll', weight: 2 } },
 *   functions: { rx_poll: [ …process at most r('budget') packets…, load('work', n),
 *                           if_(lt(r('work'), r('budget')), [napi_complete_done('priv->napi', r('work'))]) ] },
 *
 * The poll function reads its budget in register `budget` and returns its
 * work done in register `work` (rename them with `budget:`/`work:`).
 */
import type { Expr, Stmt } from './design.ts';

/** netif_napi_add_weight(dev, napi, poll, weight): the poll function, by design function name. */
export interface NapiDecl {
  readonly poll: string;
  /** NAPI_POLL_WEIGHT (64) by default. */
  readonly weight?: number;
  /** The register the poll function reads its budget from (default `budget`). */
  readonly budget?: string;
  /** The register the poll function leaves its work done in (default `work`). */
  readonly work?: string;
}

const withRet = (st: Record<string, unknown>, ret: string | undefined): Stmt => (ret === undefined ? st : { ...st, reg: ret }) as Stmt;

/** `netif_napi_add(dev, &napi, poll)`: listed, and disabled until napi_enable. */
export const netif_napi_add = (napi: string): Stmt => ({ op: 'netif_napi_add', obj: napi });
/** `netif_napi_del(&napi)` (with synchronize_net: sleeps). */
export const netif_napi_del = (napi: string): Stmt => ({ op: 'netif_napi_del', obj: napi });
/** `napi_enable(&napi)`. */
export const napi_enable = (napi: string): Stmt => ({ op: 'napi_enable', obj: napi });
/** `napi_disable(&napi)`: wait for a scheduled or running poll, then own it. Sleeps. */
export const napi_disable = (napi: string): Stmt => ({ op: 'napi_disable', obj: napi });
/** `napi_schedule(&napi)`: if napi_schedule_prep, put it on this CPU's poll list and raise NET_RX (no wakeup). */
export const napi_schedule = (napi: string, ret?: string): Stmt => withRet({ op: 'napi_schedule', obj: napi }, ret);
/** `napi_schedule_irqoff(&napi)`: the same, irqs already off. */
export const napi_schedule_irqoff = (napi: string, ret?: string): Stmt => withRet({ op: 'napi_schedule_irqoff', obj: napi }, ret);
/** `napi_schedule_prep(&napi)`: take SCHED; 1 if the caller now owns the poll. */
export const napi_schedule_prep = (napi: string, ret?: string): Stmt => withRet({ op: 'napi_schedule_prep', obj: napi }, ret);
/** `__napi_schedule(&napi)`: after a successful napi_schedule_prep. */
export const __napi_schedule = (napi: string): Stmt => ({ op: '__napi_schedule', obj: napi });
/** `napi_complete_done(&napi, work)`: the poll is done; 0 if it must keep polling (a schedule came meanwhile). */
export const napi_complete_done = (napi: string, work: Expr, ret?: string): Stmt => withRet({ op: 'napi_complete_done', obj: napi, value: work }, ret);
