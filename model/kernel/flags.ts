/**
 * Kernel version switches (shared/kernel-semantics.md §10) and the profiles
 * that set them. A design picks a profile and may override single flags.
 */

export interface KernelFlags {
  /**
   * `inline`: pending softirqs run at every run point (≤4.8, ≥6.5).
   * `ksoftirqd-running`: irq_exit/do_softirq skip while ksoftirqd is runnable,
   * except for HI/TASKLET (4.9–6.4, commit 4cd13c21b207; `ksoftirqd_running()`).
   */
  readonly softirqDefer: 'inline' | 'ksoftirqd-running';
  /**
   * `once-per-vector`: 2.4 `do_softirq` restarts only for vectors not yet run
   * in this call. `max-restart`: `MAX_SOFTIRQ_RESTART` (10) passes, with the
   * 2 ms / need_resched give-up offered as a choice (≈2.6.3+).
   */
  readonly restartPolicy: 'once-per-vector' | 'max-restart';
  /** Every hardirq handler runs with irqs off (≥2.6.35); else other lines may nest. */
  readonly irqHandlersIrqsOff: boolean;
  /** `split` SOFTIRQ_OFFSET vs SOFTIRQ_DISABLE_OFFSET (≥2.6.37); `single` counter before. */
  readonly bhCounting: 'single' | 'split';
  /** 2.4: bottom halves globally serialised, timers in TIMER_BH. */
  readonly globalBH: boolean;
  /** `spin`: tasklet_disable/kill spin (<5.13); `sleep`: they sleep (≥5.13). */
  readonly taskletWait: 'spin' | 'sleep';
  readonly taskletOrder: 'lifo' | 'fifo';
  /** `qrwlock`: task readers queue behind a waiting writer (≈3.16+); `reader-biased` before. */
  readonly rwlock: 'qrwlock' | 'reader-biased';
  readonly wqModel: 'per-wq-threads' | 'cmwq';
  readonly timerShutdown: boolean;
  readonly backlogBH: 'bh-off' | 'bh-on';
  readonly prequeue: boolean;
  readonly backlogLimit: boolean;
}

export type ProfileName = 'modern' | '2.4' | '4.x-prequeue';
export type KernelFlagsInput = Partial<KernelFlags>;

const MODERN: KernelFlags = {
  softirqDefer: 'inline',
  restartPolicy: 'max-restart',
  irqHandlersIrqsOff: true,
  bhCounting: 'split',
  globalBH: false,
  taskletWait: 'sleep',
  taskletOrder: 'fifo',
  rwlock: 'qrwlock',
  wqModel: 'cmwq',
  timerShutdown: true,
  backlogBH: 'bh-on',
  prequeue: false,
  backlogLimit: true,
};

export const PROFILES: Readonly<Record<ProfileName, KernelFlags>> = {
  modern: MODERN,
  '2.4': {
    ...MODERN,
    restartPolicy: 'once-per-vector',
    irqHandlersIrqsOff: false,
    bhCounting: 'single',
    globalBH: true,
    taskletWait: 'spin',
    taskletOrder: 'lifo',
    rwlock: 'reader-biased',
    wqModel: 'per-wq-threads',
    timerShutdown: false,
    backlogBH: 'bh-off',
    backlogLimit: false,
  },
  '4.x-prequeue': {
    ...MODERN,
    softirqDefer: 'ksoftirqd-running',
    taskletWait: 'spin',
    timerShutdown: false,
    backlogBH: 'bh-off',
    prequeue: true,
  },
};

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
  timerShutdown: [true, false],
  backlogBH: ['bh-off', 'bh-on'],
  prequeue: [true, false],
  backlogLimit: [true, false],
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
