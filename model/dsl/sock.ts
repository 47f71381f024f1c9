/**
 * Builders and declarations for the socket lock and socket references
 * (include/net/sock.h, net/core/sock.c). Declare each socket in a design's
 * `socks` field; it embeds `<sk>->sk_lock.slock`, `<sk>->sk_lock.wq`,
 * `<sk>->sk_backlog` and `<sk>->sk_refcnt`, which the design may use by
 * name. The semantics are in model/kernel/sock.ts.
 *
 *   socks: { sk: { backlog: 2, backlog_rcv: 'tcp_v4_do_rcv' } },
 *   functions: { tcp_v4_rcv: [bh_lock_sock('sk'),
 *                             if_(sock_owned_by_user('sk'), [if_(sk_add_backlog('sk', r('skb'), 1), [inc('drops')])],
 *                                                          [call('tcp_v4_do_rcv')]),
 *                             bh_unlock_sock('sk')] },
 */
import type { Expr, Stmt } from './design.ts';

/** A struct sock: its backlog capacity and sk_backlog_rcv, by design function name. */
export interface SockDecl {
  /** Capacity of `<sk>->sk_backlog`, in segments (1 to 64). */
  readonly backlog: number;
  /** sk->sk_backlog_rcv (tcp_v4_do_rcv): run by the owner's release_sock on each backlogged segment. */
  readonly backlog_rcv: string;
  /** The register backlog_rcv reads the segment from (default `skb`). */
  readonly skb?: string;
  /** sk->sk_prot->release_cb (tcp_release_cb): run by release_sock under slock before ownership ends. */
  readonly release_cb?: string;
  /** sk->sk_refcnt at the start (default 1). */
  readonly refcnt?: number;
}

const withRet = (st: Record<string, unknown>, ret: string | undefined): Stmt => (ret === undefined ? st : { ...st, reg: ret }) as Stmt;

/** `lock_sock(sk)`: own the socket; sleeps while another task owns it. Task context. */
export const lock_sock = (sk: string): Stmt => ({ op: 'lock_sock', obj: sk });
/** `release_sock(sk)`: drain the backlog through sk_backlog_rcv in this context, then release ownership. */
export const release_sock = (sk: string): Stmt => ({ op: 'release_sock', obj: sk });
/** `__release_sock(sk)`: the backlog drain alone; the owner holds slock, and still does after. */
export const __release_sock = (sk: string): Stmt => ({ op: '__release_sock', obj: sk });
/** `sock_release_ownership(sk)`: owned = 0; it wakes nobody. */
export const sock_release_ownership = (sk: string): Stmt => ({ op: 'sock_release_ownership', obj: sk });
/** `bh_lock_sock(sk)`: spin_lock(&sk->sk_lock.slock), BH already off. */
export const bh_lock_sock = (sk: string): Stmt => ({ op: 'bh_lock_sock', obj: sk });
export const bh_unlock_sock = (sk: string): Stmt => ({ op: 'bh_unlock_sock', obj: sk });
/** `sock_owned_by_user(sk)`: a task owns the socket (checked: under slock or as the owner). A condition. */
export const sock_owned_by_user = (sk: string, ret?: string): Stmt => withRet({ op: 'sock_owned_by_user', obj: sk }, ret);
/** `sock_owned_by_user_nocheck(sk)`: the same without lockdep's check. */
export const sock_owned_by_user_nocheck = (sk: string, ret?: string): Stmt => withRet({ op: 'sock_owned_by_user_nocheck', obj: sk }, ret);
/** `sk_add_backlog(sk, skb, limit)`: 1 (-ENOBUFS) when sk_backlog.len > limit, else queued. A condition. */
export const sk_add_backlog = (sk: string, skb: Expr, limit: number, ret?: string): Stmt => withRet({ op: 'sk_add_backlog', obj: sk, value: skb, count: limit }, ret);
/** `sock_hold(sk)`: refcount_inc(&sk->sk_refcnt). */
export const sock_hold = (sk: string): Stmt => ({ op: 'sock_hold', obj: sk });
/** `sock_put(sk)`: the last reference frees the socket (sk_free). */
export const sock_put = (sk: string): Stmt => ({ op: 'sock_put', obj: sk });
/** `__sock_put(sk)`: refcount_dec, for a reference that cannot be the last. */
export const __sock_put = (sk: string): Stmt => ({ op: '__sock_put', obj: sk });
/** `sk_free(sk)`: free the socket's struct. */
export const sk_free = (sk: string): Stmt => ({ op: 'sk_free', obj: sk });
/** `sk_reset_timer(sk, &t, jiffies + delta)`: mod_timer, and sock_hold if the timer was not pending. */
export const sk_reset_timer = (sk: string, timer: string, delta: Expr = 1): Stmt => ({ op: 'sk_reset_timer', obj: sk, target: timer, value: delta });
/** `sk_stop_timer(sk, &t)`: del_timer, and __sock_put if it was pending; does not wait for a running callback. */
export const sk_stop_timer = (sk: string, timer: string): Stmt => ({ op: 'sk_stop_timer', obj: sk, target: timer });
/** `sk_stop_timer_sync(sk, &t)`: the same with del_timer_sync. */
export const sk_stop_timer_sync = (sk: string, timer: string): Stmt => ({ op: 'sk_stop_timer_sync', obj: sk, target: timer });
