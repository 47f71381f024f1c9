/**
 * The catalogue's properties: every design gets the verdict it claims from
 * both explorers, every counterexample replays, every buggy design has a
 * fixed twin (and the other way round), and the violations are the ones the
 * designs are about: the right contexts in the wait-for cycle, on the right
 * CPUs. Fixed designs are checked not to be verified vacuously: the
 * interleaving their bug needed still happens, or is excluded for the reason
 * the fix gives.
 *
 * The per-design checks iterate over CATALOGUE, so a design added there is
 * covered without touching this file.
 */
import { describe, expect, it } from 'vitest';
import { check, compile, replay, type Design, type Verdict } from '../model/index.ts';
import { CATALOGUE, catalogueDesign } from '../model/designs/index.ts';
import { reachesInOrder } from './helpers/reachable.ts';

/** Fixed seed for the random explorer, so a failure here reproduces. */
const SEED = 42;
/** Runs the random explorer gets to find each bug (measured: the slowest, del_timer_sync-under-spin_lock_irq, at run 330). */
const RUNS = 2000;
/** Runs it gets on a fixed design, where it must find nothing. */
const RUNS_FIXED = 300;
/**
 * Bugs that sampling finds only with many more runs: the seed and runs that
 * find each. None today.
 */
const RANDOM_PINS: ReadonlyMap<string, { seed: number; runs: number }> = new Map([]);
/**
 * The catalogue's designs are kept small enough for npm test (the TCP
 * designs are the largest: the 3-segment one on the socket builders takes
 * 161,569 states, see tcp.test.ts); a blow-up here is a regression.
 */
const MAX_STATES = 250_000;

const isBuggy = (d: Design): boolean => d.expected !== undefined && d.expected !== 'verified';

// Verdicts are computed once per design and shared by the tests below.
const exhaustiveVerdicts = new Map<string, Verdict>();
function exhaustiveVerdict(d: Design): Verdict {
  let v = exhaustiveVerdicts.get(d.name);
  if (!v) {
    v = check(d, { explorer: 'exhaustive', maxStates: MAX_STATES });
    exhaustiveVerdicts.set(d.name, v);
  }
  return v;
}
const randomVerdicts = new Map<string, Verdict>();
function randomVerdict(d: Design): Verdict {
  let v = randomVerdicts.get(d.name);
  if (!v) {
    v = check(d, { explorer: 'random', ...(RANDOM_PINS.get(d.name) ?? { seed: SEED, runs: isBuggy(d) ? RUNS : RUNS_FIXED }) });
    randomVerdicts.set(d.name, v);
  }
  return v;
}

function designNamed(name: string): Design {
  const d = catalogueDesign(name);
  if (!d) throw new Error(`no catalogue design named ${name}`);
  return d;
}


const cycleOf = (v: Verdict) => v.violation?.cycle ?? [];
const cycleContexts = (v: Verdict) => cycleOf(v).map((w) => `cpu${w.cpu} ${w.context}`).sort();
const cycleCpus = (v: Verdict) => [...new Set(cycleOf(v).map((w) => w.cpu))].sort();
/** Index of the first trace step containing `text`, or -1. */
const stepIndex = (v: Verdict, text: string) => (v.violation?.trace ?? []).findIndex((l) => l.includes(text));

describe('the catalogue', () => {
  it('holds the designs of issue 2, buggy then fixed, pair by pair', () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(12);
    expect(CATALOGUE.length % 2).toBe(0);
    for (let i = 0; i < CATALOGUE.length; i += 2) {
      const [buggy, fixed] = [CATALOGUE[i]!, CATALOGUE[i + 1]!];
      expect(isBuggy(buggy), `${buggy.name} comes first in its pair`).toBe(true);
      expect(fixed.expected, `${fixed.name} comes second in its pair`).toBe('verified');
      expect(buggy.twin).toBe(fixed.name);
      expect(fixed.twin).toBe(buggy.name);
    }
    for (const name of [
      'task-vs-hardirq-spin_lock', 'task-vs-hardirq-spin_lock_irqsave',
      'task-vs-softirq-spin_lock', 'task-vs-softirq-spin_lock_bh',
      'abba-spin_lock', 'abba-ordered',
      'irq-safe-to-unsafe-spin_lock', 'irq-safe-to-unsafe-spin_lock_irqsave',
      'nested-spin_unlock_irq-under-irqsave', 'nested-spin_lock-under-irqsave',
      'rwlock-read-recursion-task', 'rwlock-read-recursion-hardirq',
    ]) expect(catalogueDesign(name), name).toBeDefined();
  });

  it('has unique kebab-case names', () => {
    const names = CATALOGUE.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    // Kernel identifiers keep their underscores: task-vs-hardirq-spin_lock_irqsave.
    for (const n of names) expect(n).toMatch(/^[a-z0-9_]+(-[a-z0-9_]+)+$/);
  });
});

/**
 * What a design is about: a bug pattern of kernel-semantics.md §8 (B1–B21),
 * an invariant (T1–T5, TM1–TM4, W1–W3, N1–N6), or the seed it illustrates.
 */
const patterns = (d: Design): Set<string> =>
  new Set((d.description?.match(/\b(B\d+[a-d]?|TM\d|T\d|W\d|N\d|lost wakeup|Wilcox|Miller)\b/g) ?? []).map((p) => p.replace(/^(B\d+)[a-d]$/, "$1")));

describe.each(CATALOGUE.map((d) => [d.name, d] as const))('%s', (_name, design) => {
  it('declares its description (naming its bug pattern or its seed), expected verdict and twin', () => {
    expect(design.expected).toBeDefined();
    expect(design.twin).toBeDefined();
    const text = design.description ?? '';
    expect(text.length).toBeGreaterThan(80);
    expect(text.length).toBeLessThan(900);
    expect(patterns(design).size).toBeGreaterThan(0);
  });

  it('has a twin in the catalogue that points back and claims the opposite kind of verdict', () => {
    const twin = designNamed(design.twin!);
    expect(twin.twin).toBe(design.name);
    expect(isBuggy(twin)).toBe(!isBuggy(design));
    // A pair is about one bug pattern (or one rule of a seed): both descriptions name it.
    expect([...patterns(design)].some((b) => patterns(twin).has(b))).toBe(true);
  });

  it('the twin gets the opposite kind of verdict', () => {
    const mine = exhaustiveVerdict(design);
    const theirs = exhaustiveVerdict(designNamed(design.twin!));
    expect([mine.status, theirs.status].sort()).toEqual(['verified', 'violation']);
  });

  it('gets its expected verdict from the exhaustive explorer, within a small state space', () => {
    const v = exhaustiveVerdict(design);
    expect(v.explorer).toBe('exhaustive');
    expect(v.expected).toBe(design.expected);
    expect(v.stats.transitions).toBeGreaterThan(0);
    expect(v.stats.states).toBeLessThanOrEqual(MAX_STATES);
    if (design.expected === 'verified') {
      expect(v.status, v.violation?.message).toBe('verified');
      expect(v.violation).toBeNull();
    } else {
      expect(v.status, v.boundedOut ?? '').toBe('violation');
      expect(v.violation?.kind, v.violation?.message).toBe(design.expected);
      expect(v.violation!.choices.length).toBe(v.violation!.trace.length);
    }
  });

  // A pinned bug takes thousands of runs (RANDOM_PINS): allow for a busy machine.
  it('gets a consistent verdict from the random explorer', { timeout: 300_000 }, () => {
    const v = randomVerdict(design);
    expect(v.seed).toBe(RANDOM_PINS.get(design.name)?.seed ?? SEED);
    if (isBuggy(design)) {
      expect(v.status, `seed ${SEED}, ${RUNS} runs: ${v.boundedOut}`).toBe('violation');
      expect(v.violation?.kind, v.violation?.message).toBe(design.expected);
    } else {
      // Sampling proves nothing, but it must not find a violation either.
      expect(v.violation, v.violation?.message).toBeNull();
    }
  });

  it('every violation replays to the same kind, step for step', () => {
    for (const v of [exhaustiveVerdict(design), randomVerdict(design)]) {
      if (!v.violation) continue;
      const p = compile(design);
      const r = replay(p, v.violation.choices, v.violation.trace);
      expect(r.mismatch, `${v.explorer}: ${r.mismatch?.problem}`).toBeNull();
      expect(r.violation?.kind).toBe(v.violation.kind);
      expect(r.violation?.message).toBe(v.violation.message);
      expect(r.steps.map((st) => st.label)).toEqual(v.violation.trace);
    }
  });

  it('is deterministic: the exhaustive explorer finds the same schedule again', () => {
    // lockdep only listens: the search, its states and its schedule are the same without it.
    const again = check(design, { explorer: 'exhaustive', maxStates: MAX_STATES, lockdep: false });
    const first = exhaustiveVerdict(design);
    expect(again.status).toBe(first.status);
    expect(again.stats.states).toBe(first.stats.states);
    expect(again.violation?.choices ?? null).toEqual(first.violation?.choices ?? null);
    expect(again.fingerprint).toBe(first.fingerprint);
  });
});

// ------------------------------------------------- what each violation is

describe('the violations are the ones the designs are about', () => {
  it('B1: eth0 spins on priv->lock over the task that holds it, on cpu0', () => {
    for (const v of [exhaustiveVerdict(designNamed('task-vs-hardirq-spin_lock')), randomVerdict(designNamed('task-vs-hardirq-spin_lock'))]) {
      expect(cycleContexts(v)).toEqual(['cpu0 hardirq eth0', 'cpu0 task ethtool']);
      expect(v.violation!.message).toMatch(/^AA deadlock on cpu0: hardirq eth0 spins/);
      expect(v.violation!.message).toContain('&priv->lock is held by task ethtool');
      expect(stepIndex(v, 'eth0 interrupt arrives')).toBeGreaterThan(stepIndex(v, '[task ethtool]: spin_lock(&priv->lock)'));
    }
  });

  it('B2: NET_RX, run at eth0\'s irq_exit, spins on the lock its task holds', () => {
    for (const v of [exhaustiveVerdict(designNamed('task-vs-softirq-spin_lock')), randomVerdict(designNamed('task-vs-softirq-spin_lock'))]) {
      expect(cycleContexts(v)).toEqual(['cpu0 softirq NET_RX', 'cpu0 task ethtool']);
      expect(v.violation!.message).toMatch(/^AA deadlock on cpu0: softirq NET_RX spins/);
      const raised = stepIndex(v, '[hardirq eth0]: __raise_softirq_irqoff(NET_RX');
      expect(raised).toBeGreaterThan(stepIndex(v, '[task ethtool]: spin_lock(&priv->lock)'));
      expect(stepIndex(v, 'run NET_RX handler')).toBeGreaterThan(raised);
    }
  });

  it('B5: ABBA is a circular wait across cpu0 and cpu1', () => {
    for (const v of [exhaustiveVerdict(designNamed('abba-spin_lock')), randomVerdict(designNamed('abba-spin_lock'))]) {
      expect(cycleCpus(v)).toEqual([0, 1]);
      expect(cycleContexts(v)).toEqual(['cpu0 task mover0', 'cpu1 task mover1']);
      expect(v.violation!.message).toMatch(/^deadlock across cpu0\/cpu1/);
      expect(v.violation!.message).toContain('&B is held by task mover1');
      expect(v.violation!.message).toContain('&A is held by task mover0');
    }
  });

  it('B6: the cycle runs through eth0 on cpu0, which neither CPU alone would deadlock on', () => {
    for (const v of [exhaustiveVerdict(designNamed('irq-safe-to-unsafe-spin_lock')), randomVerdict(designNamed('irq-safe-to-unsafe-spin_lock'))]) {
      expect(cycleCpus(v)).toEqual([0, 1]);
      expect(cycleContexts(v)).toEqual(['cpu0 hardirq eth0', 'cpu0 task stats', 'cpu1 task config']);
      expect(v.violation!.message).toContain('hardirq eth0: spin_lock(&A) spins: &A is held by task config');
      expect(v.violation!.message).toContain('task config: spin_lock(&B) spins: &B is held by task stats');
    }
  });

  it('B4: eth0 arrives after spin_unlock_irq(&B) re-enabled irqs, while A is still held', () => {
    for (const v of [exhaustiveVerdict(designNamed('nested-spin_unlock_irq-under-irqsave')), randomVerdict(designNamed('nested-spin_unlock_irq-under-irqsave'))]) {
      expect(cycleContexts(v)).toEqual(['cpu0 hardirq eth0', 'cpu0 task config']);
      expect(v.violation!.message).toContain('&A is held by task config');
      const unlockIrq = stepIndex(v, '[task config]: spin_unlock_irq(&B)');
      expect(unlockIrq).toBeGreaterThanOrEqual(0);
      expect(stepIndex(v, 'eth0 interrupt arrives')).toBeGreaterThan(unlockIrq);
      expect(stepIndex(v, 'spin_unlock_irqrestore(&A')).toBe(-1);
    }
  });

  it('B17: the second read_lock queues behind the writer waiting on cpu1', () => {
    for (const v of [exhaustiveVerdict(designNamed('rwlock-read-recursion-task')), randomVerdict(designNamed('rwlock-read-recursion-task'))]) {
      expect(cycleCpus(v)).toEqual([0, 1]);
      expect(cycleContexts(v)).toEqual(['cpu0 task lookup', 'cpu1 task updater']);
      expect(v.violation!.message).toContain('queued behind a writer waiting for readers to drain (task updater)');
      expect(v.violation!.message).toContain('&L is read-held by task lookup');
      const waiting = stepIndex(v, '[task updater]: write_lock(&L): takes the qrwlock wait lock and sets _QW_WAITING');
      expect(waiting).toBeGreaterThan(stepIndex(v, '[task lookup]: read_lock(&L)'));
      expect(v.violation!.trace.at(-1)).toMatch(/\[task lookup\]: read_lock\(&L\): queues behind the waiting writer/);
    }
  });
});

describe('B12 by max_active: a second caller of queue_work', () => {
  it('the running load item and its re-queued instance hold both slots; the configuration item it flushes stays inactive', () => {
    for (const v of [exhaustiveVerdict(designNamed('unbound-wq-second-caller-exhausts-max_active')), randomVerdict(designNamed('unbound-wq-second-caller-exhausts-max_active'))]) {
      expect(v.violation!.kind).toBe('deadlock');
      expect(v.violation!.message).toMatch(/^deadlock on cpu\d: task kworker\/u\d+:\d waits for itself/);
      expect(v.violation!.message).toContain('flush_work(&config_work) sleeps until &config_work, inactive on fw_wq, has run');
      const started = stepIndex(v, 'process_one_work(&load_work)');
      const requeued = v.violation!.trace.findIndex((l, i) => i > started && /queue_work\(fw_wq, &load_work\) → true/.test(l));
      const inactive = stepIndex(v, 'queue_work(fw_wq, &config_work) → true: inactive on fw_wq (max_active 2 reached)');
      expect(started).toBeGreaterThanOrEqual(0);
      expect(requeued).toBeGreaterThan(started);
      expect(inactive).toBeGreaterThan(requeued);
      expect(stepIndex(v, '&load_work runs on kworker')).toBeGreaterThan(requeued);
    }
  });

  it('fixed: with the configuration item on cfg_wq the same interleaving happens and the flush returns', () => {
    const d = designNamed('dependent-item-on-its-own-workqueue');
    expect(reachesInOrder(d, [
      'process_one_work(&load_work)', 'queue_work(fw_wq, &load_work) → true', 'queue_work(cfg_wq, &config_work) → true',
      '&load_work runs on kworker', 'flush_work(&config_work)', 'process_one_work(&config_work)', 'loaded++',
    ])).toBe(true);
  });

  it('the one-caller design declares the one caller as its assumption, and its probe is not replicable', () => {
    const d = designNamed('unbound-wq-item-waits-for-later-item');
    expect(d.assumes?.map((a) => a.why)).toEqual([expect.stringContaining('the only caller of queue_work')]);
    expect(d.tasks.map((t) => t.replicable ?? false)).toEqual([false]);
    expect(exhaustiveVerdict(d).assumptions).toEqual(d.assumes);
  });
});

// --------------------------------------- the fixes are not verified vacuously

describe('the fixes work for the reason they give', () => {
  it('B1 fixed: eth0 still takes priv->lock, but never inside the irqsave section', () => {
    const d = designNamed('task-vs-hardirq-spin_lock_irqsave');
    expect(reachesInOrder(d, ['eth0 interrupt arrives', '[hardirq eth0]: spin_lock(&priv->lock)'])).toBe(true);
    expect(reachesInOrder(d, ['[task ethtool]: spin_lock_irqsave', 'eth0 interrupt arrives', '[task ethtool]: spin_unlock_irqrestore'])).toBe(false);
  });

  it('B2 fixed: eth0 arrives inside the _bh section and NET_RX runs at spin_unlock_bh', () => {
    const d = designNamed('task-vs-softirq-spin_lock_bh');
    expect(reachesInOrder(d, [
      '[task ethtool]: spin_lock_bh(&priv->lock): acquires', 'eth0 interrupt arrives', '[hardirq eth0]: __raise_softirq_irqoff',
      '[task ethtool]: spin_unlock_bh(&priv->lock)', 'run NET_RX handler', '[softirq NET_RX]: spin_lock(&priv->lock)',
    ])).toBe(true);
    // NET_RX never starts while the task holds the lock.
    expect(reachesInOrder(d, ['[task ethtool]: spin_lock_bh(&priv->lock): acquires', 'run NET_RX handler', '[task ethtool]: spin_unlock_bh'])).toBe(false);
  });

  it('B5 fixed: the two CPUs still contend for A', () => {
    const d = designNamed('abba-ordered');
    expect(reachesInOrder(d, ['[task mover0]: spin_lock(&A)', '[task mover1]: spin_lock(&A): &A is busy, spins'])).toBe(true);
  });

  it('B6 fixed: eth0 still spins on A while cpu1 holds it, and cpu1 can always finish', () => {
    const d = designNamed('irq-safe-to-unsafe-spin_lock_irqsave');
    expect(reachesInOrder(d, ['cpu1 [task config]: spin_lock_irq(&A)', 'cpu0: eth0 interrupt arrives', 'cpu0 [hardirq eth0]: spin_lock(&A): &A is busy, spins'])).toBe(true);
    // Nothing interrupts cpu0 while it holds B.
    expect(reachesInOrder(d, ['cpu0 [task stats]: spin_lock_irqsave(&B', 'cpu0: eth0 interrupt arrives', 'cpu0 [task stats]: spin_unlock_irqrestore(&B'])).toBe(false);
  });

  it('B4 fixed: irqs stay off from spin_lock_irqsave(&A) to spin_unlock_irqrestore(&A)', () => {
    const d = designNamed('nested-spin_lock-under-irqsave');
    expect(reachesInOrder(d, ['eth0 interrupt arrives', '[hardirq eth0]: spin_lock(&A)'])).toBe(true);
    expect(reachesInOrder(d, ['[task config]: spin_lock_irqsave(&A', 'eth0 interrupt arrives', '[task config]: spin_unlock_irqrestore(&A'])).toBe(false);
  });

  it('B17 fixed: eth0\'s read_lock gets L past the writer waiting on cpu1', () => {
    const d = designNamed('rwlock-read-recursion-hardirq');
    expect(reachesInOrder(d, [
      'cpu0 [task lookup]: read_lock(&L)', 'cpu1 [task updater]: write_lock(&L): takes the qrwlock wait lock and sets _QW_WAITING',
      'cpu0: eth0 interrupt arrives', 'cpu0 [hardirq eth0]: read_lock(&L)', 'cpu0 [hardirq eth0]: read_unlock(&L)',
    ])).toBe(true);
    // The same reader in task context would have queued: the twin deadlocks exactly there.
    expect(exhaustiveVerdict(designNamed('rwlock-read-recursion-task')).status).toBe('violation');
  });
});

// ------------------------------------------------------ lockdep's prediction

/**
 * The buggy deadlock designs lockdep cannot predict: the wait that closes
 * their cycle has no lockdep annotation in the kernel, so no dependency
 * lockdep records leads back. Each with the reason.
 */
const LOCKDEP_BLIND: ReadonlyMap<string, string> = new Map([
  ['tasklet_disable_in_atomic-in-hardirq',
    'tasklet_disable_in_atomic spins in tasklet_unlock_spin_wait on TASKLET_STATE_RUN: no lockdep map (kernel/softirq.c)'],
  ['tasklet_disable-in-own-func',
    'tasklet_disable waits in tasklet_unlock_wait (wait_var_event on TASKLET_STATE_RUN): no lockdep map (kernel/softirq.c)'],
  ['flush_scheduled_tasks-under-rtnl',
    '2.4 had no lockdep, and kdefer gives keventd\'s flush no map of its own: the modern flush_scheduled_work is flush_workqueue(system_wq), whose wq->lockdep_map the model has (keventd-item-waits-for-later-item is predicted)'],
  ['unbound-wq-second-caller-exhausts-max_active',
    'start_flush_work touches wq->lockdep_map only for a max_active 1 or rescuer workqueue (kernel/workqueue.c): a wait for a free max_active slot of an unbound workqueue has no map'],
  ['disable_irq-under-threaded-handler-mutex',
    'synchronize_irq spins in __synchronize_hardirq and sleeps in wait_event(desc->wait_for_threads): no lockdep map for the threaded handler (kernel/irq/manage.c)'],
  ['mem_reclaim-item-flushes-system_wq',
    'the flushed item waits for a kworker that create_worker cannot make (a stalled pool, rescued only for WQ_MEM_RECLAIM): the wait is on memory, not on a lockdep map; the kernel warns separately in check_flush_dependency, which kdefer does not model'],
]);

describe('lockdep\'s prediction on the catalogue (check() runs it by default)', () => {
  const byKind = (pred: (d: Design) => boolean) => CATALOGUE.filter(pred);

  it('every buggy deadlock design has a lockdep report confirmed by a deadlock, except where the kernel has no lockdep annotation for the wait', () => {
    const deadlocks = byKind((d) => d.expected === 'deadlock');
    for (const name of LOCKDEP_BLIND.keys()) expect(deadlocks.map((d) => d.name), name).toContain(name);
    for (const d of deadlocks) {
      const v = exhaustiveVerdict(d);
      expect(v.lockdep, d.name).toBeDefined();
      const confirmed = v.lockdep!.filter((e) => e.status === 'confirmed');
      if (LOCKDEP_BLIND.has(d.name)) {
        // Listed as blind: lockdep indeed predicts nothing here (if it does, take the design off the list).
        expect(confirmed.map((e) => e.title), d.name).toEqual([]);
        continue;
      }
      expect(confirmed.length, `${d.name}: ${JSON.stringify(v.lockdep!.map((e) => [e.status, e.title, e.reason]))}`).toBeGreaterThan(0);
      for (const e of confirmed) {
        expect(e.schedule!.violation.kind, `${d.name}: ${e.title}`).toBe('deadlock');
        expect(e.reason, d.name).toMatch(/deadlocks on /);
      }
    }
  });

  it('the u64_stats seqcount carries lockdep\'s map: the hardirq reader over the irqs-on writer is {HARDIRQ-ON-W} -> {IN-HARDIRQ-R}, confirmed; the irqsave writer draws nothing', () => {
    const [e, ...rest] = exhaustiveVerdict(designNamed('u64_stats-hardirq-reader-over-writer')).lockdep!;
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ kind: 'inconsistent', classes: ['&stats->syncp'], status: 'confirmed' });
    expect(e!.report).toContain('inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-R} usage.');
    expect(e!.report).toContain('{HARDIRQ-ON-W} state was registered at:\n  task xmit_done[1]: u64_stats_update_begin(&stats->syncp)');
    expect(exhaustiveVerdict(designNamed('u64_stats-writer-irqsave')).lockdep).toEqual([]);
  });

  it('no fixed design has a confirmed (or undecided) lockdep report; a not-reachable one says why', () => {
    const withReports: string[] = [];
    for (const d of byKind((x) => x.expected === 'verified')) {
      const v = exhaustiveVerdict(d);
      if (v.status !== 'verified') continue;
      const entries = v.lockdep ?? [];
      expect(entries.filter((e) => e.status !== 'not-reachable').map((e) => `${e.status}: ${e.title}`), d.name).toEqual([]);
      for (const e of entries) expect(e.reason.length, `${d.name}: ${e.title}`).toBeGreaterThan(20);
      if (entries.length > 0) withReports.push(d.name);
    }
    // Measured: lockdep's false positives on the catalogue. eth0 (affine to cpu0) reads L in hardirq,
    // the updater on cpu1 write-locks it with irqs on: lockdep reports the inconsistency, which no schedule realises.
    // On 6.6 the timer of timer-remote-expiry runs only on its arming CPU, away from the plain spin_lock; and a
    // spinlock_t inside a raw_spinlock_t is lockdep's RT nesting rule, harmless on a !RT kernel.
    expect(withReports).toEqual(['rwlock-read-recursion-hardirq', 'timer-remote-expiry-v6_6', 'rt-spin-lock-under-raw-v6_12']);
    const [fp] = exhaustiveVerdict(designNamed('rwlock-read-recursion-hardirq')).lockdep!;
    expect(fp).toMatchObject({ kind: 'inconsistent', title: 'WARNING: inconsistent lock state', classes: ['&L'], status: 'not-reachable' });
    expect(fp!.reason).toMatch(/^&L is taken in hardirq context only on cpu0, and &L is held with hardirqs enabled only on cpu1: the interrupt never finds it held; checked every schedule within 2 CPUs/);
    const timer = exhaustiveVerdict(designNamed('timer-remote-expiry-v6_6')).lockdep!;
    expect(timer.map((e) => [e.kind, e.status])).toEqual([['inconsistent', 'not-reachable'], ['bad-irq-dependency', 'not-reachable']]);
    expect(timer[0]!.reason).toMatch(/^&L is taken in softirq context only on cpu0, and &L is held with softirqs enabled only on cpu1/);
    const [raw] = exhaustiveVerdict(designNamed('rt-spin-lock-under-raw-v6_12')).lockdep!;
    expect(raw).toMatchObject({ kind: 'wait-context', status: 'not-reachable' });
    expect(raw!.reason).toMatch(/^without PREEMPT_RT a spinlock_t never sleeps/);
  });

  it('buggy designs of the other kinds: a confirmed lockdep report is realised by the design\'s own kind of violation, and every report says how it was settled', () => {
    for (const d of byKind((x) => isBuggy(x) && x.expected !== 'deadlock')) {
      const v = exhaustiveVerdict(d);
      for (const e of v.lockdep ?? []) {
        expect(e.reason.length, `${d.name}: ${e.title}`).toBeGreaterThan(20);
        expect(e.status, `${d.name}: ${e.title}: ${e.reason}`).not.toBe('not-decided');
        if (e.status === 'confirmed') expect(`${d.name}: ${e.schedule!.violation.kind}`).toBe(`${d.name}: ${d.expected}`);
      }
    }
    // A mutex taken in atomic context is lockdep's invalid wait context, confirmed by the sleep-in-atomic itself.
    const mutexUnderSpin = exhaustiveVerdict(designNamed('mutex_lock-under-spin_lock')).lockdep!;
    expect(mutexUnderSpin.map((e) => [e.status, e.title, e.classes])).toEqual([['confirmed', '[ BUG: Invalid wait context ]', ['&fw_mutex', '&dev->lock']]]);
  });
});
