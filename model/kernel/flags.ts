/**
 * Kernel version switches (shared/kernel-semantics.md §10,
 * kernel-semantics-rt.md §5) and the profiles that set them. A profile is a
 * kernel release, or a range of releases whose rules the model does not tell
 * apart; each switch names the commit that changed it. A design picks a
 * profile and may override single flags.
 */

export interface KernelFlags {
  /**
   * `inline`: pending softirqs run at every run point (≤4.8, ≥6.5).
   * `ksoftirqd-running`: irq_exit/do_softirq skip while ksoftirqd is runnable,
   * except for HI/TASKLET (4.9–6.4: 4cd13c21b207 "softirq: Let ksoftirqd do
   * its job", HI/TASKLET exempt since 3c53776e29f8 "Mark HI and TASKLET
   * softirq synchronous" in 4.18 (the model always exempts them), reverted by
   * d15121be7485 in 6.5; `ksoftirqd_running()`).
   */
  readonly softirqDefer: 'inline' | 'ksoftirqd-running';
  /**
   * `once-per-vector`: 2.4 `do_softirq` restarts only for vectors not yet run
   * in this call. `max-restart`: `MAX_SOFTIRQ_RESTART` (10) passes, with the
   * 2 ms / need_resched give-up offered as a choice (≈2.6.3+, before git).
   */
  readonly restartPolicy: 'once-per-vector' | 'max-restart';
  /** Every hardirq handler runs with irqs off (≥2.6.35, e58aa3d2d0cc "genirq: Run irq handlers with interrupts disabled"); else other lines may nest. */
  readonly irqHandlersIrqsOff: boolean;
  /** `split` SOFTIRQ_OFFSET vs SOFTIRQ_DISABLE_OFFSET (≥2.6.37, 75e1056f5c57 "sched: Fix softirq time accounting"); `single` counter before. */
  readonly bhCounting: 'single' | 'split';
  /** 2.4: bottom halves globally serialised, timers in TIMER_BH (the BHs were removed in 2.5). */
  readonly globalBH: boolean;
  /**
   * `spin`: tasklet_disable/kill spin (<5.13); `sleep`: they sleep (≥5.13,
   * da044747401f "tasklets: Replace spin wait in tasklet_unlock_wait()",
   * 697d8c63c4a2 "tasklets: Replace spin wait in tasklet_kill()").
   */
  readonly taskletWait: 'spin' | 'sleep';
  /** `lifo`: tasklets pushed at the head of the per-CPU list (2.4, early 2.6); `fifo` after. */
  readonly taskletOrder: 'lifo' | 'fifo';
  /** `qrwlock`: task readers queue behind a waiting writer (≈3.16+, 70af2f8a4f48 "locking/rwlocks: Introduce 'qrwlocks'"); `reader-biased` before. */
  readonly rwlock: 'qrwlock' | 'reader-biased';
  /**
   * `cmwq`: concurrency-managed worker pools (2.6.36, e22bee782b3b
   * "workqueue: implement concurrency managed dynamic worker pool"),
   * non-reentrant (3.7, dbf2576e37da "workqueue: make all workqueues
   * non-reentrant"); `per-wq-threads`: a thread per workqueue and CPU before.
   */
  readonly wqModel: 'per-wq-threads' | 'cmwq';
  /**
   * A kworker that runs one item past wq_cpu_intensive_thresh_us without
   * sleeping is marked CPU_INTENSIVE at a tick and its pool kicked, so the
   * pool's other items run beside it (≥6.5, 616db8779b1e "workqueue:
   * Automatically mark CPU-hogging work items CPU_INTENSIVE"; wq_worker_tick).
   */
  readonly wqCpuHog: boolean;
  /**
   * timer_shutdown[_sync], the timer_delete names, and add_timer's
   * WARN_ON_ONCE instead of BUG_ON (6.2: f571faf6e443 "timers: Provide
   * timer_shutdown[_sync]()", 9b13df3fb64e/bb663f0f3c39 the renames,
   * 82ed6f7ef58f "timers: Replace BUG_ON()s"; later backported to 6.1.y and
   * 5.15.y stable, which the 6.1 profile, as released, does not have).
   */
  readonly timerShutdown: boolean;
  /**
   * disable_irq() starts with might_sleep() (6.2, 17549b0f184d "genirq:
   * Add might_sleep() to disable_irq()"): called from the line's own
   * handler it is "sleeping function called from invalid context"; before,
   * it spun on its own IRQ_INPROGRESS for ever (B33).
   */
  readonly disableIrqMightSleep: boolean;
  /**
   * disable_work(_sync), disable_delayed_work(_sync), enable_work and
   * enable_delayed_work exist (6.10, 86898fa6b8cd "workqueue: Implement
   * disable/enable for (delayed) work items").
   */
  readonly workDisable: boolean;
  /**
   * Timer pull (≥6.9, 7ee988770326 "timers: Implement the hierarchical pull
   * model", kernel/time/timer_migration.c): a non-pinned timer is queued on
   * the arming CPU's base, and if that CPU is idle when it is due, another
   * CPU expires it from its own TIMER softirq (tmigr_handle_remote →
   * timer_expire_remote). Before: get_nohz_timer_target() may pick another
   * CPU's base when the timer is armed, and a timer expires on its base's CPU.
   */
  readonly timerPull: boolean;
  /**
   * CONFIG_PREEMPT_RT (selectable in mainline since 6.12, "sched: Enable
   * PREEMPT_RT", baeb9a7d8b60 as recalled, not checked against the tree;
   * the option itself since 5.3, a50a3f4b6a31 "sched/rt, Kconfig: Introduce
   * CONFIG_PREEMPT_RT"; the rt_mutex based spinlock_t/rwlock_t of
   * kernel/locking/spinlock_rt.c since 5.15): spinlock_t and rwlock_t sleep
   * (priority inheritance as ordering only), their _irq forms leave irqs on,
   * raw_spinlock_t spins, softirqs never run at irq_exit (invoke_softirq
   * wakes ksoftirqd), every task is preemptible where preempt_count is 0.
   * See model/kernel/spinlock.ts and softirq.ts for what is not modelled.
   */
  readonly preemptRT: boolean;
  /** TCP backlog processed with BH on (≥4.9, 5413d1babe8f "net: do not block BH while processing socket backlog"). */
  readonly backlogBH: 'bh-off' | 'bh-on';
  /** TCP prequeue (≤4.13; removed in 4.14 by e7942d0633c4 "tcp: remove prequeue and header prediction"). */
  readonly prequeue: boolean;
  /** Bounded socket backlog with TCPBacklogDrop (≥2.6.34, 8eae939f1400 "net: add limit for socket backlog"). */
  readonly backlogLimit: boolean;
}

export type ProfileName = '6.12' | '6.12-rt' | '6.6' | '6.1' | 'modern' | '4.x-prequeue' | '2.4';
export type KernelFlagsInput = Partial<KernelFlags>;

/** What a profile stands for. */
export interface KernelProfile {
  readonly flags: KernelFlags;
  /** The kernel releases whose rules these are (as far as the model tells them apart), e.g. `6.12+`. */
  readonly range: string;
  /** One line on what sets it apart from its neighbours. */
  readonly about: string;
}

/** v6.12 and later: timer pull (6.9), ksoftirqd deferral gone (6.5), timer_shutdown (6.2), sleeping tasklet waits (5.13). */
const V6_12: KernelFlags = {
  softirqDefer: 'inline',
  restartPolicy: 'max-restart',
  irqHandlersIrqsOff: true,
  bhCounting: 'split',
  globalBH: false,
  taskletWait: 'sleep',
  taskletOrder: 'fifo',
  rwlock: 'qrwlock',
  wqModel: 'cmwq',
  wqCpuHog: true,
  timerShutdown: true,
  disableIrqMightSleep: true,
  workDisable: true,
  timerPull: true,
  backlogBH: 'bh-on',
  prequeue: false,
  backlogLimit: true,
  preemptRT: false,
};
/** v6.6 LTS: as 6.12 but timers are pushed at arming, not pulled at expiry (before 7ee988770326, 6.9), and no disable_work (before 86898fa6b8cd, 6.10). */
const V6_6: KernelFlags = { ...V6_12, timerPull: false, workDisable: false };
/** v6.1 LTS: ksoftirqd_running() deferral (until d15121be7485, 6.5), no timer_shutdown (f571faf6e443, 6.2), disable_irq without might_sleep (17549b0f184d, 6.2), no CPU-hog kick (616db8779b1e, 6.5). */
const V6_1: KernelFlags = { ...V6_6, softirqDefer: 'ksoftirqd-running', timerShutdown: false, disableIrqMightSleep: false, wqCpuHog: false };

const RELEASE_6_12: KernelProfile = { flags: V6_12, range: '6.12+', about: 'timer pull (6.9+); disable_work (6.10+); CPU-hog kick of work pools and no ksoftirqd deferral (6.5+); timer_shutdown and a sleeping disable_irq (6.2+)' };

export const PROFILE_INFO: Readonly<Record<ProfileName, KernelProfile>> = {
  '6.12': RELEASE_6_12,
  '6.12-rt': { flags: { ...V6_12, preemptRT: true }, range: '6.12+ PREEMPT_RT', about: 'CONFIG_PREEMPT_RT: sleeping spinlock_t/rwlock_t, irqs left on by spin_lock_irq*, raw_spinlock_t spins, softirqs never at irq_exit, full preemption' },
  '6.6': { flags: V6_6, range: '6.5–6.8', about: 'timers pushed at arming (get_nohz_timer_target), expired on their base\'s CPU; no disable_work; no ksoftirqd deferral; timer_shutdown' },
  '6.1': { flags: V6_1, range: '5.13–6.1', about: 'ksoftirqd deferral (4.9–6.4); no timer_shutdown, disable_irq spins in its own handler (before 6.2); no CPU-hog kick of work pools (before 6.5); sleeping tasklet waits (5.13+)' },
  // The newest release: designs written for "modern" follow it.
  modern: RELEASE_6_12,
  '4.x-prequeue': {
    flags: {
      ...V6_12,
      softirqDefer: 'ksoftirqd-running',
      taskletWait: 'spin',
      wqCpuHog: false,
      timerShutdown: false,
      disableIrqMightSleep: false,
      workDisable: false,
      timerPull: false,
      backlogBH: 'bh-off',
      prequeue: true,
    },
    range: '4.x',
    about: 'a 4.x mix for the TCP designs: prequeue (≤4.13) and BH-off backlog (<4.9) with the ksoftirqd deferral (4.9–6.4, HI/TASKLET exempt as from 4.18), spinning tasklet waits',
  },
  '2.4': {
    flags: {
      ...V6_12,
      restartPolicy: 'once-per-vector',
      irqHandlersIrqsOff: false,
      bhCounting: 'single',
      globalBH: true,
      taskletWait: 'spin',
      taskletOrder: 'lifo',
      rwlock: 'reader-biased',
      wqModel: 'per-wq-threads',
      wqCpuHog: false,
      timerShutdown: false,
      disableIrqMightSleep: false,
      workDisable: false,
      timerPull: false,
      backlogBH: 'bh-off',
      backlogLimit: false,
    },
    range: '2.4',
    about: 'global bottom halves and task queues, timers in TIMER_BH, reader-biased rwlocks, LIFO tasklets',
  },
};

export const PROFILES: Readonly<Record<ProfileName, KernelFlags>> = Object.fromEntries(
  Object.entries(PROFILE_INFO).map(([name, info]) => [name, info.flags]),
) as Record<ProfileName, KernelFlags>;

/** "6.12 (6.12+)": a profile with the kernel releases it stands for. */
export function profileText(name: string): string {
  const info = (PROFILE_INFO as Readonly<Record<string, KernelProfile>>)[name];
  return info && info.range !== name ? `${name} (${info.range})` : name;
}

const ALLOWED: { readonly [K in keyof KernelFlags]: readonly KernelFlags[K][] } = {
  softirqDefer: ['inline', 'ksoftirqd-running'],
  restartPolicy: ['once-per-vector', 'max-restart'],
  irqHandlersIrqsOff: [true, false],
  bhCounting: ['single', 'split'],
  globalBH: [true, false],
  taskletWait: ['spin', 'sleep'],
  taskletOrder: ['lifo', 'fifo'],
  rwlock: ['qrwlock', 'reader-biased'],
  wqModel: ['per-wq-threads', 'cmwq'],
  wqCpuHog: [true, false],
  timerShutdown: [true, false],
  disableIrqMightSleep: [true, false],
  workDisable: [true, false],
  timerPull: [true, false],
  backlogBH: ['bh-off', 'bh-on'],
  prequeue: [true, false],
  backlogLimit: [true, false],
  preemptRT: [true, false],
};

/** Every kernel flag's name, for checking a design's `flags` keys. */
export const FLAG_NAMES: readonly string[] = Object.keys(ALLOWED);

/** The flags of a profile with overrides applied; throws a message naming a bad flag. */
export function resolveFlags(profile: ProfileName | undefined, overrides: KernelFlagsInput | undefined): KernelFlags {
  const name = profile ?? 'modern';
  const base = PROFILES[name];
  if (!base) throw new Error(`unknown kernel profile '${String(profile)}' (known: ${Object.keys(PROFILES).join(', ')})`);
  const flags: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    const allowed = (ALLOWED as Record<string, readonly unknown[]>)[key];
    if (!allowed) throw new Error(`unknown kernel flag '${key}' (known: ${Object.keys(ALLOWED).join(', ')})`);
    if (!allowed.includes(value)) {
      throw new Error(`kernel flag '${key}' cannot be ${JSON.stringify(value)} (allowed: ${allowed.map((a) => JSON.stringify(a)).join(', ')})`);
    }
    flags[key] = value;
  }
  return flags as unknown as KernelFlags;
}
