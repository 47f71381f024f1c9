/**
 * Work queues (kernel/workqueue.c, include/linux/workqueue.h,
 * Documentation/core-api/workqueue.rst; shared/kernel-semantics.md §6).
 *
 * Objects. A work item (design field `works`, struct work_struct or, with
 * `delayed`, struct delayed_work) has the PENDING bit, the workqueue and the
 * pool of its pending instance (kept after it ran: get_work_pool, which the
 * non-reentrancy check reads), the list it is linked on with its position
 * there, the CPU of its delayed_work timer, the task cancelling it
 * (WORK_OFFQ_CANCELING), the kworkers executing it and the tasks whose flush
 * barriers wait on it. A workqueue (design field `workqueues`; the kernel's
 * system_wq, system_long_wq and system_unbound_wq exist without a
 * declaration) has its flags and max_active as attributes, and in state the
 * kworkers executing its items (worker->current_pwq->wq), its flushers and
 * its drainers (__WQ_DRAINING), and whether destroy_workqueue freed it.
 *
 * Pools and kworkers. Each CPU has a bound, concurrency-managed pool of
 * kworkers `kworker/N:0`, `kworker/N:1`…, pinned to it; UNBOUND and ORDERED
 * workqueues share one unbound pool, `kworker/uM:0`…, whose kworkers start on
 * cpu0 and cpu1 and may run on any CPU (the scheduler's load balancing moves
 * them while they wait). A pool has one kworker per work item the design may
 * queue to it, two at least (poolDemand): the kernel grows a pool whenever
 * its running kworkers all sleep with work pending (kick_pool wakes an idle
 * kworker, and a kworker that would leave none idle first creates one,
 * may_start_working / manage_workers / create_worker), and a pool never needs
 * more kworkers than items, so within the design's bounds the pool is
 * exact. The model creates them up front, idle; creating one on demand
 * differs only in time. The kworkers exist only when the design declares
 * works, so other designs keep their state spaces.
 * A kworker is a task running builtin code `worker_thread` in process context:
 * a work function runs with irqs and bh on and preempt_count 0, and may sleep.
 * An idle kworker sleeps on channel(Chan.Worker, its task) (it keeps nothing
 * from ending, see check/deadlock.ts) and is woken by queueing.
 *
 * Lists. A pool's worklist, a kworker's private `scheduled` list and a
 * pool_workqueue's inactive list (nr_active reached max_active) are FIFOs
 * whose entries are work items and flush barriers. An entry's list and rank
 * (1-based) are kept in the entry itself: in the work item's words, or for a
 * barrier in the flushing task's X_AUX words; ranks are renumbered on removal,
 * so equal lists hash equal. A barrier inserted behind a *queued* instance is
 * linked to it (WORK_STRUCT_LINKED) and moves with it, so it has no rank of
 * its own; one inserted behind a *running* instance sits at the head of the
 * executing kworker's scheduled list, which the model keeps as "after that
 * kworker's current item"; a linked barrier whose item is cancelled stays
 * where the item was, standalone, with a rank, and completes when a kworker
 * reaches it, as in the kernel (an inactive item's barrier goes to the
 * worklist's tail, as pwq_activate_work moves it there, and kicks the pool).
 *
 * Concurrency management (wq_worker_sleeping, kick_pool): nr_running of a
 * bound pool counts its kworkers that are executing an item and are on their
 * CPU now. insert_work wakes the first idle kworker when nr_running is 0;
 * when the running kworker sleeps inside its work function, waking another
 * one is a choice (`wq_worker_sleeping`), offered while the pool has pending
 * work, no busy kworker is on the CPU and an idle one sleeps. Counting only
 * on-CPU kworkers over-approximates the kernel (which also counts a
 * preempted one), so a second kworker may start where the kernel would
 * have waited: sound, never fewer behaviours.
 *
 * Version (wqModel, shared/kernel-semantics.md §10). 'cmwq' (2.6.36+) is the
 * above, with the non-reentrancy of 3.7+. 'per-wq-threads' is the keventd
 * era (2.5.41–2.6.35): every workqueue has its own thread per CPU (`events/N`
 * for system_wq, `name/N` otherwise), each with its own queue, no concurrency
 * management, no max_active and no non-reentrancy across CPUs: an item that
 * sleeps holds up every later item of its workqueue on its CPU, and one
 * queued on another CPU while it runs runs there at once. A singlethread
 * workqueue (UNBOUND or ORDERED here) uses its cpu0 thread only; the other
 * CPUs' threads of it exist but stay idle. The 2.4 profile (globalBH) has no
 * work queues at all (2.5.41): their ops are unavailable there.
 *
 * Memory pressure (options.memoryPressure; kernel/workqueue.c
 * manage_workers, maybe_create_worker, create_worker, pool_mayday_timeout,
 * send_mayday, rescuer_thread). A pool in use keeps two idle kworkers
 * (too_many_workers culls beyond two); its other kworkers are slots
 * create_worker fills. A kworker leaving idle with none idle left
 * (!may_start_working) and no manager active must create one first: the
 * two outcomes are variants of its step. Success fills the next slot;
 * failure is for good (memory stays short for the rest of the run, the
 * worst case the rescuer exists for): the pool is stalled and the kworker
 * stays in maybe_create_worker as its manager, blocked (so a run that ends
 * with it is a hung task, the kernel's workqueue lockup), until
 * need_to_create_worker() is false (a choice, its CREATE_COOLDOWN retry).
 * Or the failure is for now: the manager waits the same way, and a retry
 * may also succeed at any later point (a choice: memory was freed), filling
 * the slot, after which later creations may fail again. Together the two
 * cover every sequence of outcomes of the kernel's retries: failing until
 * the need is gone, or failing a while and then succeeding.
 * Meanwhile another woken kworker works on (manage_workers returns false).
 * The mayday timer is a choice too: it wakes the rescuer of each
 * WQ_MEM_RECLAIM workqueue with items on the pool's worklist, a kthread
 * named after the workqueue (rescuer_thread), which takes only its own
 * workqueue's items and runs them one after another, moving to a bound
 * pool's CPU first. Not modelled: a flush barrier left standalone by a cancelled
 * item is not rescued with its pwq's items; check_flush_dependency's
 * warnings ("WQ_MEM_RECLAIM … is flushing !WQ_MEM_RECLAIM …"); the
 * pre-cmwq threads, which were never created on demand, ignore the option.
 *
 * Not modelled: NUMA unbound pwqs (one unbound pool; a HIGHPRI unbound
 * workqueue shares it, which unbound pools' lack of concurrency management
 * makes exact), CPU hotplug, freezing, WQ_BH (6.9), WQ_NON_REENTRANT
 * (2.6.36–3.6; cmwq here is always non-reentrant), and, pre-cmwq, cancel_work_sync's wait for running instances on *every* CPU
 * (it waits for the one in the item's last queue, as flush_work does).
 *
 * Disabling (6.10, 86898fa6b8cd "workqueue: Implement disable/enable for
 * (delayed) work items"): a work item carries a disable count (W_DISABLE).
 * disable_work(_sync) and disable_delayed_work(_sync) cancel as
 * cancel_work(_sync) does and count one more; while the count is non-zero
 * every queueing attempt fails and returns false (clear_pending_if_disabled
 * after the test_and_set of PENDING), a self-requeue from the running
 * function too. enable_work counts one less and returns whether it reached
 * 0 ("workqueue: work disable count underflowed" below 0); it queues
 * nothing.
 *
 * Delayed work. The delayed_work timer is not a timer_list of timer.ts (which
 * models declared timers only): its expiry is a choice, `delayed_work_timer`,
 * offered at any point after arming, on the CPU it was armed on; it then
 * queues the item as delayed_work_timer_fn does. Any point includes points
 * where the real TIMER softirq could not run on that CPU (irqs or bh off):
 * an over-approximation, like the scheduler's msleep TIMEOUT.
 */
import type { WorkDecl, WorkqueueDecl, WorkqueueFlag } from '../dsl/workqueue.ts';
import type { KernelFlags } from './flags.ts';
import {
  C_CURTASK, C_IRQS_OFF, ContextStatus, T_CHANNEL, X_AUX1, X_AUX2, X_AUX3, X_CALLS, X_CPU, X_ENTRY_IRQS,
  X_HELD, X_PHASE, X_STATUS,
} from './layout.ts';
import type { Machine } from './machine.ts';
import type { Program } from './program.ts';
import { block, Chan, channel, FAILED_KTHREAD, mightSleep, UNCREATED_KTHREAD, wakeAll, yieldCpu } from './scheduler.ts';
import type {
  ChoiceSource, KernelThread, LockdepMapRef, Mechanism, ObjectKindSpec, OperandSpec, OpSemantics, ProgramShape, WaitEdge,
} from './semantics.ts';
import { heldNames } from './softirq.ts';

// ------------------------------------------------------------ state words

/** Work item words. */
const W_PENDING = 0; // WORK_STRUCT_PENDING
const W_WQ = 1; // wq id + 1 of the pending instance (queued or timer), else of the last one; 0 none
const W_POOL = 2; // pool id + 1 where queued or last run (get_work_pool); 0 = WORK_STRUCT_NO_POOL
const W_LIST = 3; // list the pending instance is linked on (worklistOf, scheduledOf, inactiveOf), 0 none
const W_RANK = 4; // 1-based position in that list
const W_TIMER = 5; // delayed_work: timer CPU + 1 while its timer is armed
const W_DCPU = 6; // delayed_work: dwork->cpu + 1, 0 = WORK_CPU_UNBOUND
const W_CANCELER = 7; // task + 1 of the cancel_work_sync holding it (WORK_OFFQ_CANCELING)
const W_RUN = 8; // bitmask of the kworkers executing it (find_worker_executing_work)
const W_FLUSHERS = 9; // bitmask of the tasks with a flush barrier on it
const W_DISABLE = 10; // disable count (WORK_OFFQ_DISABLE bits of work->data, 6.10+)
const W_HOG = 11; // its running instance's kworker is WORKER_CPU_INTENSIVE (wq_worker_tick, ≥6.5): not in nr_running
export const WORK_SIZE = 12;

/** Workqueue words. */
const WQ_RUN = 0; // bitmask of the kworkers executing one of its items (worker->current_pwq->wq)
const WQ_FLUSHERS = 1; // bitmask of the tasks in flush_workqueue/drain_workqueue on it
const WQ_DRAINERS = 2; // wq->nr_drainers: __WQ_DRAINING while > 0
const WQ_DEAD = 3; // freed by destroy_workqueue
const WQ_MAYDAYS = 4; // wq->maydays: bitmask of the pools whose pwq asked its rescuer for help (send_mayday)
const WQ_RESCUE_POOL = 5; // pool + 1 its rescuer is attached to (worker_attach_to_pool), 0 none
export const WORKQUEUE_SIZE = 6;

/** Lists: a pool's worklist, a kworker's scheduled list, a pwq's inactive list. */
const LIST_WORKLIST = 1; // + pool
const LIST_SCHEDULED = 64; // + worker
const LIST_INACTIVE = 128; // + wq * 32 + pool
const worklistOf = (pool: number): number => LIST_WORKLIST + pool;
const scheduledOf = (worker: number): number => LIST_SCHEDULED + worker;
const inactiveOf = (wq: number, pool: number): number => LIST_INACTIVE + wq * 32 + pool;

/**
 * A flushing or cancelling task's own words while it is in one of the
 * waiting ops (X_AUX1 low nibble = its state, high bits = a saved return
 * value; X_AUX2/X_AUX3 by state).
 */
const enum Flush {
  None = 0,
  /** Barrier linked behind the queued instance of the work. */
  Linked = 1,
  /** Barrier at the head of kworker X_AUX2's scheduled list: runs when its current item returns. */
  After = 2,
  /** Standalone barrier in list X_AUX2 at rank X_AUX3 (its item was cancelled). */
  Standalone = 3,
  /** The barrier ran (wq_barrier_func): the flusher may go on. */
  Done = 4,
  /** flush_workqueue: waits for the queued instances X_AUX2 (works mask) and running ones X_AUX3 (kworkers mask). */
  Wq = 5,
  WqDone = 6,
}

/** Wait channels: flushers on their work, cancellers on another canceller, workqueue flushers. */
const CANCEL_CHAN = 0x100;
const WQ_CHAN = 0x200;
/** A kworker stuck in maybe_create_worker (memory pressure), + its pool. */
const MANAGE_CHAN = 0x300;

/** Workqueue flag bits (alloc_workqueue), as attributes. */
const WQ_FLAG_BITS: Readonly<Record<WorkqueueFlag, number>> = {
  UNBOUND: 1, ORDERED: 2, HIGHPRI: 4, MEM_RECLAIM: 8, FREEZABLE: 16,
};
/** WQ_DFL_ACTIVE, WQ_MAX_ACTIVE (include/linux/workqueue.h). */
export const WQ_DFL_ACTIVE = 256;
export const WQ_MAX_ACTIVE = 512;
/**
 * Kworkers a pool has at least: the running one and the idle one the kernel
 * keeps ready (worker_thread: a worker that would leave none idle first
 * creates one, may_start_working / manage_workers). A pool gets one more per
 * work item that may be queued to it beyond two (see poolDemand).
 */
export const WORKERS_PER_POOL = 2;
/** Masks of tasks, works and kworkers are 31-bit. */
const MAX_MASK_BITS = 31;

// ------------------------------------------------------------ topology

interface Topology {
  /** wqModel 'per-wq-threads': one thread per workqueue and CPU, each its own pool. */
  readonly perWq: boolean;
  /** options.memoryPressure under cmwq: creating a kworker may fail; rescuers exist. */
  readonly pressure: boolean;
  /** Kworker index → task id, and its pool (-1: a rescuer, attached to a pool only while it rescues). */
  readonly workerTask: readonly number[];
  readonly workerPool: readonly number[];
  /** Kworker index → the workqueue it rescues, or -1 (rescuer_thread, one per WQ_MEM_RECLAIM workqueue under memory pressure). */
  readonly rescuerWq: readonly number[];
  /** Workqueue → its rescuer's kworker index, or -1. */
  readonly wqRescuer: readonly number[];
  /** Task id → kworker index, or -1. */
  readonly taskWorker: Int32Array;
  /** Pool → its kworkers; its CPU (-1: the unbound pool). */
  readonly poolWorkers: readonly (readonly number[])[];
  readonly poolMask: readonly number[];
  readonly poolCpu: readonly number[];
  /** Concurrency-managed (cmwq's bound pools). */
  readonly poolManaged: readonly boolean[];
  /** cmwq's unbound pool, or -1. */
  readonly unboundPool: number;
  readonly nworks: number;
  readonly nwqs: number;
  readonly systemWq: number;
}

const TOPOLOGY = new WeakMap<Program, Topology>();

function topology(m: Machine): Topology {
  let t = TOPOLOGY.get(m.p);
  if (t) return t;
  const p = m.p;
  const entry = p.builtins['worker_thread'];
  const rescuerEntry = p.builtins['rescuer_thread'];
  const workerTask: number[] = [];
  p.tasks.forEach((task, i) => {
    if (task.entry === entry) workerTask.push(i);
  });
  const nwqsAll = p.objects['workqueue']?.length ?? 0;
  const wqRescuer = new Array<number>(nwqsAll).fill(-1);
  const rescuerWq = workerTask.map(() => -1);
  p.tasks.forEach((task, i) => {
    if (task.entry !== rescuerEntry) return;
    // kworkers() names a rescuer after its workqueue (rescuer_thread's kthread is "%s", wq->name).
    const q = p.objects['workqueue']!.findIndex((o) => o.name === task.name);
    wqRescuer[q] = workerTask.length;
    rescuerWq.push(q);
    workerTask.push(i);
  });
  const perWq = p.flags.wqModel === 'per-wq-threads';
  // cmwq pools: cpuN's (N), the unbound one (ncpu), cpuN's highpri one (ncpu + 1 + N).
  const npools = workerTask.length === 0 ? 0 : perWq ? workerTask.length : 2 * p.ncpu + 1;
  // `kworker/N:i` serves cpuN's pool, `kworker/N:iH` its highpri pool, `kworker/uM:i` the unbound one (kworkers() names them so).
  const workerPool = workerTask.map((task, k) => {
    if (rescuerWq[k]! >= 0) return -1;
    if (perWq) return k;
    const bound = /^kworker\/(\d+):\d+(H?)$/.exec(p.tasks[task]!.name);
    return !bound ? p.ncpu : bound[2] ? p.ncpu + 1 + Number(bound[1]) : Number(bound[1]);
  });
  const taskWorker = new Int32Array(p.tasks.length).fill(-1);
  workerTask.forEach((task, k) => { taskWorker[task] = k; });
  const poolWorkers = [...Array(npools).keys()].map((pool) => workerTask.flatMap((_, k) => (workerPool[k] === pool ? [k] : [])));
  const nworks = p.objects['work']?.length ?? 0;
  const nwqs = p.objects['workqueue']?.length ?? 0;
  if (nworks > MAX_MASK_BITS || p.tasks.length > MAX_MASK_BITS) {
    throw new Error(`kdefer limit: at most ${MAX_MASK_BITS} works and ${MAX_MASK_BITS} tasks (kworkers included) in a design with work queues`);
  }
  t = {
    perWq,
    pressure: !perWq && p.design.options?.memoryPressure === true,
    workerTask,
    workerPool,
    rescuerWq,
    wqRescuer,
    taskWorker,
    poolWorkers,
    poolMask: poolWorkers.map((ks) => ks.reduce((mask, k) => mask | (1 << k), 0)),
    poolCpu: [...Array(npools).keys()].map((pool) => (perWq ? pool % p.ncpu : pool < p.ncpu ? pool : pool > p.ncpu ? pool - p.ncpu - 1 : -1)),
    poolManaged: [...Array(npools).keys()].map((pool) => !perWq && pool !== p.ncpu),
    unboundPool: perWq || npools === 0 ? -1 : p.ncpu,
    nworks,
    nwqs,
    systemWq: p.objects['workqueue']?.findIndex((o) => o.name === 'system_wq') ?? -1,
  };
  TOPOLOGY.set(p, t);
  return t;
}

/** The pre-cmwq thread name of a workqueue: keventd's `events` for system_wq. */
const threadBase = (wq: string): string => ({ system_wq: 'events', system_long_wq: 'events_long', system_unbound_wq: 'events_unbound' })[wq] ?? wq;

/** How many kworkers each cmwq pool needs: per CPU (bound pools), and for the unbound pool. */
interface PoolDemand {
  readonly bound: readonly number[];
  /** Per CPU, the items of HIGHPRI (bound) workqueues: the CPU's highpri pool. */
  readonly highpri: readonly number[];
  readonly unbound: number;
}

/**
 * The work items that may be queued to each cmwq pool, from the design's
 * queueing statements (queue_work_on with a CPU: that CPU's pool; without:
 * any CPU's; an UNBOUND or ORDERED workqueue: the unbound pool). A pool never
 * needs more kworkers than that: each runs one item at a time, an item runs
 * on one kworker of a pool at a time (a second instance waits on that
 * kworker's scheduled list, assign_work), and flush barriers run on the
 * kworker that reaches them. So a pool of max(WORKERS_PER_POOL, items)
 * kworkers is the kernel's pool within the design's bounds: every time its
 * running kworkers all sleep with work pending, kick_pool finds an idle one
 * (the kernel's manager creates it, create_worker, if it is not there yet).
 */
function poolDemand(shape: ProgramShape): PoolDemand {
  const ncpu = shape.ncpu;
  const nworks = shape.objectCount('work');
  const wqs = shape.objectNames('workqueue');
  const operandsOf = shape.operandsOf;
  const objectAttr = shape.objectAttr;
  if (!operandsOf || !objectAttr) return { bound: new Array<number>(ncpu).fill(nworks), highpri: new Array<number>(ncpu).fill(0), unbound: nworks };
  const bound = [...Array(ncpu)].map(() => new Set<number>());
  const highpri = [...Array(ncpu)].map(() => new Set<number>());
  const unbound = new Set<number>();
  const systemWq = wqs.indexOf('system_wq');
  const queued = (q: number, w: number, cpu: number): void => {
    const flags = objectAttr('workqueue', q, 'flags') ?? 0;
    const pools = (flags & WQ_FLAG_BITS.HIGHPRI) !== 0 ? highpri : bound;
    if ((flags & (WQ_FLAG_BITS.UNBOUND | WQ_FLAG_BITS.ORDERED)) !== 0) unbound.add(w);
    else if (cpu >= 0 && cpu < ncpu) pools[cpu]!.add(w);
    else for (const set of pools) set.add(w);
  };
  for (const [a, b] of operandsOf('queue_work')) queued(a, b, -1);
  for (const [a, b] of operandsOf('queue_work_on')) queued(lo16(a), b, hi16(a));
  for (const [a] of operandsOf('schedule_work')) queued(systemWq, a, -1);
  for (const [a] of operandsOf('schedule_work_on')) queued(systemWq, lo16(a), hi16(a));
  for (const op of ['queue_delayed_work', 'mod_delayed_work']) for (const [a, b] of operandsOf(op)) queued(lo16(a), b, -1);
  for (const [a] of operandsOf('schedule_delayed_work')) queued(systemWq, lo16(a), -1);
  return { bound: bound.map((set) => set.size), highpri: highpri.map((set) => set.size), unbound: unbound.size };
}

/** The kworkers of a program (KernelThread list), see the header. */
function kworkers(shape: ProgramShape): readonly KernelThread[] {
  if (shape.objectCount('work') === 0) return [];
  const out: KernelThread[] = [];
  if (shape.flags.wqModel === 'per-wq-threads') {
    // create_workqueue: one thread per workqueue and CPU, `name/N` (keventd: events/N).
    for (const wq of shape.objectNames('workqueue')) {
      for (let cpu = 0; cpu < shape.ncpu; cpu++) out.push({ name: `${threadBase(wq)}/${cpu}`, cpu, builtin: 'worker_thread', idle: true });
    }
    return out;
  }
  const demand = poolDemand(shape);
  // Under memory pressure a pool in use has the two idle kworkers it keeps (too_many_workers
  // culls only beyond two); the others are slots create_worker may fill, one more than the
  // items: the idle reserve a kworker must create before it starts working (may_start_working).
  const pressure = shape.memoryPressure === true;
  const size = (items: number): number => Math.max(WORKERS_PER_POOL, pressure ? items + 1 : items);
  const slot = (i: number) => (pressure && i >= WORKERS_PER_POOL ? { uncreated: true as const } : {});
  for (let cpu = 0; cpu < shape.ncpu; cpu++) {
    const n = size(demand.bound[cpu]!);
    for (let i = 0; i < n; i++) out.push({ name: `kworker/${cpu}:${i}`, cpu, builtin: 'worker_thread', idle: true, ...slot(i) });
  }
  // Unbound kworkers may run on any CPU (the load balancer moves them while they wait for one).
  const n = size(demand.unbound);
  for (let i = 0; i < n; i++) {
    out.push({ name: `kworker/u${2 * shape.ncpu}:${i}`, cpu: i % shape.ncpu, cpusAllowed: (1 << shape.ncpu) - 1, builtin: 'worker_thread', idle: true, ...slot(i) });
  }
  // Each CPU's highpri pool (cpu_worker_pools[1], nice -20: `kworker/N:iH`), where a HIGHPRI
  // workqueue's items go; it exists in the model only if such an item may be queued.
  for (let cpu = 0; cpu < shape.ncpu; cpu++) {
    if (demand.highpri[cpu] === 0) continue;
    const n = size(demand.highpri[cpu]!);
    for (let i = 0; i < n; i++) out.push({ name: `kworker/${cpu}:${i}H`, cpu, builtin: 'worker_thread', idle: true, ...slot(i) });
  }
  // alloc_workqueue(WQ_MEM_RECLAIM) → init_rescuer: a rescuer kthread named after the workqueue.
  // It is only ever woken by a mayday, so it exists in the model only under memory pressure.
  if (pressure && shape.objectAttr) {
    shape.objectNames('workqueue').forEach((name, q) => {
      if (((shape.objectAttr!('workqueue', q, 'flags') ?? 0) & WQ_FLAG_BITS.MEM_RECLAIM) === 0) return;
      // Pinned for the load balancer: it moves itself to a bound pool's CPU when it attaches (worker_attach_to_pool).
      out.push({ name, cpu: 0, builtin: 'rescuer_thread', idle: true });
    });
  }
  return out;
}

// ------------------------------------------------------------ accessors

const workOff = (m: Machine, w: number): number => m.objOff('work', w, WORK_SIZE);
const wqOff = (m: Machine, q: number): number => m.objOff('workqueue', q, WORKQUEUE_SIZE);
const workName = (m: Machine, w: number): string => m.p.objects['work']![w]!.name;
const wqName = (m: Machine, q: number): string => m.p.objects['workqueue']![q]!.name;
const workAttr = (m: Machine, w: number, a: string): number => m.p.objects['work']![w]!.attrs[a]!;
const wqAttr = (m: Machine, q: number, a: string): number => m.p.objects['workqueue']![q]!.attrs[a]!;
const funcName = (m: Machine, w: number): string => (m.p.design.works?.[workName(m, w)]?.func) ?? workName(m, w);
const isUnbound = (m: Machine, q: number): boolean => (wqAttr(m, q, 'flags') & (WQ_FLAG_BITS.UNBOUND | WQ_FLAG_BITS.ORDERED)) !== 0;
const workerName = (m: Machine, k: number): string => m.p.tasks[topology(m).workerTask[k]!]!.name;
const poolName = (m: Machine, pool: number): string => {
  const T = topology(m);
  if (T.perWq) return `${m.p.tasks[T.workerTask[T.poolWorkers[pool]![0]!]!]!.name}'s queue`;
  const cpu = T.poolCpu[pool]!;
  return cpu < 0 ? 'the unbound pool' : `cpu${cpu}'s ${pool > m.p.ncpu ? 'highpri ' : ''}pool`;
};
const bit = (i: number): number => 1 << i;
const popcount = (x: number): number => {
  let n = 0;
  for (let v = x; v !== 0; v &= v - 1) n++;
  return n;
};
const lowestBit = (x: number): number => 31 - Math.clz32(x & -x);
const eachBit = (mask: number, fn: (i: number) => void): void => {
  for (let v = mask; v !== 0; v &= v - 1) fn(lowestBit(v));
};

/** The work kworker `k` executes, or -1 (worker->current_work). */
function currentWork(m: Machine, k: number): number {
  const n = topology(m).nworks;
  for (let w = 0; w < n; w++) if (m.s[workOff(m, w) + W_RUN]! & bit(k)) return w;
  return -1;
}

/** The workqueue of the item kworker `k` executes, or -1 (worker->current_pwq->wq). */
function currentWq(m: Machine, k: number): number {
  const n = topology(m).nwqs;
  for (let q = 0; q < n; q++) if (m.s[wqOff(m, q) + WQ_RUN]! & bit(k)) return q;
  return -1;
}

const workerStatus = (m: Machine, k: number): number => m.s[m.ctxOff(topology(m).workerTask[k]!) + X_STATUS]!;
const busy = (m: Machine, k: number): boolean => currentWork(m, k) >= 0;
/** Asleep in worker_thread, idle (worker_enter_idle + schedule). */
function asleepIdle(m: Machine, k: number): boolean {
  const task = topology(m).workerTask[k]!;
  const o = m.ctxOff(task);
  return m.s[o + X_STATUS] === ContextStatus.Blocked && m.s[o + T_CHANNEL] === channel(Chan.Worker, task);
}
/** The wait channel of kworker `k`'s task (0 unless it sleeps). */
const workerChannel = (m: Machine, k: number): number => m.s[m.ctxOff(topology(m).workerTask[k]!) + T_CHANNEL]!;
/** A slot create_worker has not filled (memory pressure): not yet created, or its creation failed for good. */
function uncreated(m: Machine, k: number): boolean {
  const chan = workerChannel(m, k);
  return chan >>> 16 === Chan.Worker && (chan & (UNCREATED_KTHREAD | FAILED_KTHREAD)) !== 0;
}
/** Stuck in manage_workers → maybe_create_worker: create_worker fails, and it retries every CREATE_COOLDOWN. */
function managing(m: Machine, k: number): boolean {
  const T = topology(m);
  return workerStatus(m, k) === ContextStatus.Blocked && workerChannel(m, k) === channel(Chan.Work, MANAGE_CHAN + T.workerPool[k]!);
}
/** On its pool's idle list (worker_enter_idle … worker_leave_idle): created, no item, not managing; asleep, or woken and not yet running. */
const onIdleList = (m: Machine, k: number): boolean => !busy(m, k) && !uncreated(m, k) && !managing(m, k);
/** The kworker of `pool` stuck managing it (POOL_MANAGER_ACTIVE), or -1. */
function managerOf(m: Machine, pool: number): number {
  for (const k of topology(m).poolWorkers[pool]!) if (managing(m, k)) return k;
  return -1;
}
/** may_start_working(): an idle kworker other than `except` (nr_idle > 0). */
function mayStartWorking(m: Machine, pool: number, except: number): boolean {
  for (const k of topology(m).poolWorkers[pool]!) if (k !== except && onIdleList(m, k)) return true;
  return false;
}
/** The slot create_worker fills next, or -1: none left, or creation has failed for good (the pool is stalled). */
function nextSlot(m: Machine, pool: number): number {
  let slot = -1;
  for (const k of topology(m).poolWorkers[pool]!) {
    const chan = workerChannel(m, k);
    if (chan >>> 16 !== Chan.Worker) continue;
    if ((chan & FAILED_KTHREAD) !== 0) return -1;
    if (slot < 0 && (chan & UNCREATED_KTHREAD) !== 0) slot = k;
  }
  return slot;
}
/** Whether creating a kworker for `pool` has failed for good (memory pressure): its manager can only wait. */
function poolStalled(m: Machine, pool: number): boolean {
  return topology(m).poolWorkers[pool]!.some((k) => {
    const chan = workerChannel(m, k);
    return chan >>> 16 === Chan.Worker && (chan & FAILED_KTHREAD) !== 0;
  });
}
/** The pool a kworker serves now: its own, or the one a rescuer is attached to (-1: a rescuer between maydays). */
function poolOf(m: Machine, k: number): number {
  const T = topology(m);
  const pool = T.workerPool[k]!;
  return pool >= 0 ? pool : m.s[wqOff(m, T.rescuerWq[k]!) + WQ_RESCUE_POOL]! - 1;
}
/** The kworkers of `pool` now, as a mask: its own, and a rescuer attached to it. */
function poolMaskNow(m: Machine, pool: number): number {
  const T = topology(m);
  let mask = T.poolMask[pool]!;
  T.wqRescuer.forEach((r, q) => {
    if (r >= 0 && m.s[wqOff(m, q) + WQ_RESCUE_POOL] === pool + 1) mask |= bit(r);
  });
  return mask;
}

// ------------------------------------------------------------ lists

interface Entry {
  readonly rank: number;
  /** The work item, or -1 for a barrier. */
  readonly work: number;
  /** The flushing task of a barrier, or -1. */
  readonly task: number;
}

/** Tasks with a flush barrier anywhere (the union of the works' W_FLUSHERS). */
function barrierTasks(m: Machine): number {
  let mask = 0;
  const n = topology(m).nworks;
  for (let w = 0; w < n; w++) mask |= m.s[workOff(m, w) + W_FLUSHERS]!;
  return mask;
}

/** The entries of `list`, in order. */
function entries(m: Machine, list: number): Entry[] {
  const out: Entry[] = [];
  const n = topology(m).nworks;
  for (let w = 0; w < n; w++) {
    const o = workOff(m, w);
    if (m.s[o + W_LIST] === list) out.push({ rank: m.s[o + W_RANK]!, work: w, task: -1 });
  }
  eachBit(barrierTasks(m), (t) => {
    const o = m.ctxOff(t);
    if ((m.s[o + X_AUX1]! & 0xf) === Flush.Standalone && m.s[o + X_AUX2] === list) out.push({ rank: m.s[o + X_AUX3]!, work: -1, task: t });
  });
  return out.sort((x, y) => x.rank - y.rank);
}

/** Shift the ranks of `list` above `rank` by `delta`. */
function shiftRanks(m: Machine, list: number, rank: number, delta: number): void {
  const n = topology(m).nworks;
  for (let w = 0; w < n; w++) {
    const o = workOff(m, w);
    if (m.s[o + W_LIST] === list && m.s[o + W_RANK]! > rank) m.w(o + W_RANK, m.s[o + W_RANK]! + delta);
  }
  eachBit(barrierTasks(m), (t) => {
    const o = m.ctxOff(t);
    if ((m.s[o + X_AUX1]! & 0xf) === Flush.Standalone && m.s[o + X_AUX2] === list && m.s[o + X_AUX3]! > rank) m.w(o + X_AUX3, m.s[o + X_AUX3]! + delta);
  });
}

/** Append work `w` (not on a list) to `list`. */
function append(m: Machine, list: number, w: number): void {
  const o = workOff(m, w);
  const rank = entries(m, list).length + 1;
  m.w(o + W_LIST, list);
  m.w(o + W_RANK, rank);
}

/** Take work `w` off its list (list_del_init); its linked barriers stay linked to it. */
function unlink(m: Machine, w: number): void {
  const o = workOff(m, w);
  shiftRanks(m, m.s[o + W_LIST]!, m.s[o + W_RANK]!, -1);
  m.w(o + W_LIST, 0);
  m.w(o + W_RANK, 0);
}

/** Take a standalone barrier off its list. */
function unlinkBarrier(m: Machine, t: number): void {
  const o = m.ctxOff(t);
  const list = m.s[o + X_AUX2]!;
  const rank = m.s[o + X_AUX3]!;
  m.w(o + X_AUX2, 0);
  m.w(o + X_AUX3, 0);
  m.w(o + X_AUX1, (m.s[o + X_AUX1]! & ~0xf) | Flush.None);
  shiftRanks(m, list, rank, -1);
}

/** Tasks whose barrier of work `w` is in state `state` (and, for After, behind kworker `k`). */
function flushersOf(m: Machine, w: number, state: Flush, k = -1): number[] {
  const out: number[] = [];
  eachBit(m.s[workOff(m, w) + W_FLUSHERS]!, (t) => {
    const o = m.ctxOff(t);
    if ((m.s[o + X_AUX1]! & 0xf) === state && (k < 0 || m.s[o + X_AUX2] === k)) out.push(t);
  });
  return out;
}

// ------------------------------------------------------------ waking

/** Wake one sleeping task (try_to_wake_up); its op re-executes and sees its new state. */
function wakeTask(m: Machine, t: number): void {
  const o = m.ctxOff(t);
  if (m.s[o + X_STATUS] !== ContextStatus.Blocked) return;
  m.w(o + X_STATUS, ContextStatus.Runnable);
  m.w(o + T_CHANNEL, 0);
}

/** wq_barrier_func: complete(&barr->done); the flusher wakes. */
function completeBarrier(m: Machine, t: number): void {
  const o = m.ctxOff(t);
  m.w(o + X_AUX1, (m.s[o + X_AUX1]! & ~0xf) | Flush.Done);
  m.w(o + X_AUX2, 0);
  m.w(o + X_AUX3, 0);
  const n = topology(m).nworks;
  for (let w = 0; w < n; w++) m.w(workOff(m, w) + W_FLUSHERS, m.s[workOff(m, w) + W_FLUSHERS]! & ~bit(t));
  wakeTask(m, t);
}

/** A flush_workqueue waiter's instances are all done (flush_workqueue_prep_pwqs colour drained). */
function completeWqFlush(m: Machine, q: number, t: number): void {
  const o = m.ctxOff(t);
  m.w(o + X_AUX1, Flush.WqDone);
  m.w(o + X_AUX2, 0);
  m.w(o + X_AUX3, 0);
  m.w(wqOff(m, q) + WQ_FLUSHERS, m.s[wqOff(m, q) + WQ_FLUSHERS]! & ~bit(t));
  wakeTask(m, t);
}

/** Clear `clear` from every flush_workqueue waiter's mask (aux: X_AUX2 works, X_AUX3 kworkers); complete the empty ones. */
function dropWqFlushMarks(m: Machine, aux: number, clear: number): void {
  const T = topology(m);
  for (let q = 0; q < T.nwqs; q++) {
    eachBit(m.s[wqOff(m, q) + WQ_FLUSHERS]!, (t) => {
      const o = m.ctxOff(t);
      if ((m.s[o + aux]! & clear) === 0) return;
      m.w(o + aux, m.s[o + aux]! & ~clear);
      if (m.s[o + X_AUX2] === 0 && m.s[o + X_AUX3] === 0) completeWqFlush(m, q, t);
    });
  }
}

// ------------------------------------------------------------ pools

/** Kworkers of `pool` (but `except`) executing an item and on their CPU now: nr_running. */
function nrRunning(m: Machine, pool: number, except: number): number {
  let n = 0;
  for (const k of topology(m).poolWorkers[pool]!) {
    if (k === except || workerStatus(m, k) !== ContextStatus.Running) continue;
    const w = currentWork(m, k);
    if (w >= 0 && m.s[workOff(m, w) + W_HOG] === 0) n++;
  }
  return n;
}

/**
 * wq_worker_tick (≥6.5, flags.wqCpuHog): the kworker of `pool` on `cpu`
 * that has run its item without sleeping past wq_cpu_intensive_thresh_us
 * (any time here: time is not modelled) may be marked CPU_INTENSIVE at a
 * tick, leave nr_running, and kick_pool. Offered only where that starts
 * something (pending work, an idle kworker): marking it earlier, with
 * nothing pending, changes nothing a later marking would not. -1 if none.
 */
function hogOn(m: Machine, pool: number, cpu: number): number {
  if (!m.p.flags.wqCpuHog || !managed(m, pool) || worklistEmpty(m, pool) || m.irqsOff(cpu) || m.frameDepth(cpu) !== 0) return -1;
  const T = topology(m);
  const current = m.s[m.cpuOff(cpu) + C_CURTASK]!;
  const k = current >= 0 ? T.taskWorker[current]! : -1;
  if (k < 0 || T.workerPool[k] !== pool) return -1;
  const w = currentWork(m, k);
  if (w < 0 || m.s[workOff(m, w) + W_HOG] !== 0 || nrRunning(m, pool, k) !== 0) return -1;
  const idle = firstIdle(m, pool);
  return idle >= 0 && asleepIdle(m, idle) ? k : -1;
}

const worklistEmpty = (m: Machine, pool: number): boolean => entries(m, worklistOf(pool)).length === 0;
const managed = (m: Machine, pool: number): boolean => topology(m).poolManaged[pool]!;

/** need_more_worker(): work pending and nobody running it (always, for the unbound pool). */
function needMoreWorker(m: Machine, pool: number, except: number): boolean {
  return !worklistEmpty(m, pool) && (!managed(m, pool) || nrRunning(m, pool, except) === 0);
}

/** keep_working(): work pending and at most this kworker running (always, for the unbound pool). */
function keepWorking(m: Machine, pool: number): boolean {
  return !worklistEmpty(m, pool) && (!managed(m, pool) || nrRunning(m, pool, -1) <= 1);
}

/** first_idle_worker(): the lowest idle kworker of the pool (asleep, or woken and not yet running an item). */
function firstIdle(m: Machine, pool: number): number {
  for (const k of topology(m).poolWorkers[pool]!) if (onIdleList(m, k)) return k;
  return -1;
}

/** need_to_create_worker(): work to start, nobody running, and no idle kworker to start it. */
const needToCreate = (m: Machine, pool: number): boolean => needMoreWorker(m, pool, -1) && !mayStartWorking(m, pool, -1);

/** kick_pool(): wake the first idle kworker if more are needed. Returns it, or -1. */
function kick(m: Machine, pool: number): number {
  if (!needMoreWorker(m, pool, -1)) return -1;
  const k = firstIdle(m, pool);
  if (k < 0 || !asleepIdle(m, k)) return -1;
  wakeAll(m, channel(Chan.Worker, topology(m).workerTask[k]!));
  return k;
}

/** pwq->nr_active: items of (wq, pool) on the worklist, on scheduled lists, or executing. */
function nrActive(m: Machine, q: number, pool: number): number {
  const T = topology(m);
  let n = popcount(m.s[wqOff(m, q) + WQ_RUN]! & poolMaskNow(m, pool));
  for (let w = 0; w < T.nworks; w++) {
    const o = workOff(m, w);
    const list = m.s[o + W_LIST]!;
    if (list === 0 || m.s[o + W_WQ] !== q + 1 || m.s[o + W_POOL] !== pool + 1) continue;
    if (list === worklistOf(pool) || (list >= LIST_SCHEDULED && list < LIST_INACTIVE)) n++;
  }
  return n;
}

/** max_active of workqueue `q`; pre-cmwq workqueues have none (one thread runs each CPU's queue in order). */
const maxActive = (m: Machine, q: number): number => (topology(m).perWq ? Infinity : wqAttr(m, q, 'maxActive'));

/**
 * pwq_dec_nr_in_flight → pwq_activate_first_inactive: while below
 * max_active, move inactive items (with their linked barriers) to the
 * worklist. `wake`: kick the pool (not when the kworker that freed the slot
 * will go on to the worklist itself).
 */
function activateInactive(m: Machine, q: number, pool: number, wake: boolean): void {
  const max = maxActive(m, q);
  for (;;) {
    const inactive = entries(m, inactiveOf(q, pool));
    if (inactive.length === 0 || nrActive(m, q, pool) >= max) return;
    const w = inactive[0]!.work;
    unlink(m, w);
    append(m, worklistOf(pool), w);
    if (wake) kick(m, pool);
  }
}

/** The kworker of `pool` executing `w` for workqueue `q` (any wq if q < 0), or -1. */
function executing(m: Machine, pool: number, w: number, q: number): number {
  const run = m.s[workOff(m, w) + W_RUN]! & poolMaskNow(m, pool);
  for (let v = run; v !== 0; v &= v - 1) {
    const k = lowestBit(v);
    if (q < 0 || currentWq(m, k) === q) return k;
  }
  return -1;
}

// ------------------------------------------------------------ queueing

/** is_chained_work(): the queuer is a kworker executing an item of `q`. */
function chained(m: Machine, ctx: number, q: number): boolean {
  if (ctx < 0 || !m.isTask(ctx)) return false;
  const k = topology(m).taskWorker[ctx]!;
  return k >= 0 && currentWq(m, k) === q;
}

/**
 * __queue_work(cpu, wq, work) for a work whose PENDING the caller owns:
 * pick the pwq (WORK_CPU_UNBOUND = this CPU on a bound wq), redirect to the
 * pool where it still runs for this wq (non-reentrancy, cmwq ≥3.7), then
 * insert_work on the worklist, or the inactive list at max_active. Returns
 * what happened, or null after a violation.
 */
function queueWork(m: Machine, cpu: number, ctx: number, reqCpu: number, q: number, w: number): string | null {
  const T = topology(m);
  const qo = wqOff(m, q);
  if (m.s[qo + WQ_DEAD]) {
    m.fail('use-after-free', `BUG: KASAN: slab-use-after-free in __queue_work: &${workName(m, w)} is queued on workqueue ${wqName(m, q)} after destroy_workqueue(${wqName(m, q)}) freed it`, cpu, ctx);
    return null;
  }
  if (m.s[qo + WQ_DRAINERS]! > 0 && !chained(m, ctx, q)) {
    m.fail('assertion', `WARNING: CPU: ${cpu} at kernel/workqueue.c __queue_work: WARN_ON_ONCE(!is_chained_work(wq)): &${workName(m, w)} queued on workqueue ${wqName(m, q)} while it is being drained (drain_workqueue/destroy_workqueue), from outside its own work items`, cpu, ctx);
    return null;
  }
  const target = reqCpu >= 0 ? reqCpu : cpu;
  if (target >= m.p.ncpu) throw new Error(`kdefer internal error: queueing &${workName(m, w)} on cpu${target} of ${m.p.ncpu} (the compiler checks this)`);
  // cmwq: the CPU's bound pool or the unbound one; pre-cmwq: the workqueue's thread for the CPU
  // (a singlethread workqueue, UNBOUND or ORDERED here, has only cpu0's).
  // cmwq: a HIGHPRI workqueue's items go to the CPU's highpri pool (its own kworkers and nr_running).
  const highpri = (wqAttr(m, q, 'flags') & WQ_FLAG_BITS.HIGHPRI) !== 0;
  let pool = T.perWq ? q * m.p.ncpu + (isUnbound(m, q) ? 0 : target) : isUnbound(m, q) ? T.unboundPool : highpri ? m.p.ncpu + 1 + target : target;
  const o = workOff(m, w);
  const last = m.s[o + W_POOL]! - 1;
  let note = '';
  if (m.p.flags.wqModel === 'cmwq' && last >= 0 && last !== pool) {
    const k = executing(m, last, w, q);
    if (k >= 0) {
      pool = last;
      note = `, where ${workerName(m, k)} still runs it (non-reentrancy)`;
    }
  }
  m.w(o + W_WQ, q + 1);
  m.w(o + W_POOL, pool + 1);
  if (nrActive(m, q, pool) < maxActive(m, q)) {
    append(m, worklistOf(pool), w);
    const woken = kick(m, pool);
    return `queued on ${poolName(m, pool)}${note}${woken >= 0 ? `, wakes ${workerName(m, woken)}` : ''}`;
  }
  append(m, inactiveOf(q, pool), w);
  return `inactive on ${wqName(m, q)} (max_active ${wqAttr(m, q, 'maxActive')} reached)${note}`;
}

/** __queue_delayed_work: delay 0 queues now; else arm the timer on `reqCpu`, or this CPU. */
function queueDelayed(m: Machine, cpu: number, ctx: number, reqCpu: number, q: number, w: number, delay: number): string | null {
  if (!workAttr(m, w, 'delayed')) throw new Error(`kdefer internal error: &${workName(m, w)} is not a delayed_work (the compiler checks this)`);
  const o = workOff(m, w);
  if (delay === 0) return queueWork(m, cpu, ctx, reqCpu, q, w);
  const timerCpu = reqCpu >= 0 ? reqCpu : cpu;
  m.w(o + W_WQ, q + 1);
  m.w(o + W_DCPU, reqCpu + 1);
  m.w(o + W_TIMER, timerCpu + 1);
  return `timer armed on cpu${timerCpu} (${delay} jiffies)`;
}

/** queue_work_on(): test_and_set PENDING; if it was clear and the item is not disabled, __queue_work. */
function queueWorkOn(m: Machine, cpu: number, ctx: number, reqCpu: number, q: number, w: number): { queued: boolean; note: string } | null {
  const o = workOff(m, w);
  if (m.s[o + W_PENDING]) return { queued: false, note: `already pending (${pendingState(m, w)})` };
  // clear_pending_if_disabled(): PENDING was taken and is dropped again.
  if (m.s[o + W_DISABLE]) return { queued: false, note: disabledNote(m, w) };
  m.w(o + W_PENDING, 1);
  const note = queueWork(m, cpu, ctx, reqCpu, q, w);
  return note === null ? null : { queued: true, note };
}

const disabledNote = (m: Machine, w: number): string => `disabled (disable count ${m.s[workOff(m, w) + W_DISABLE]}), not queued`;

/** Why PENDING is set, for labels and reports. */
function pendingState(m: Machine, w: number): string {
  const o = m.s;
  const off = workOff(m, w);
  if (o[off + W_TIMER]) return `its timer is armed on cpu${o[off + W_TIMER]! - 1}`;
  if (o[off + W_CANCELER]) return `being cancelled by ${m.p.tasks[o[off + W_CANCELER]! - 1]!.name}`;
  const list = o[off + W_LIST]!;
  if (list >= LIST_INACTIVE) return `inactive on ${wqName(m, o[off + W_WQ]! - 1)}`;
  if (list >= LIST_SCHEDULED) return `queued behind ${workerName(m, list - LIST_SCHEDULED)}'s current item`;
  if (list > 0) return `queued on ${poolName(m, list - LIST_WORKLIST)}`;
  return 'held';
}

// ------------------------------------------------------------ grabbing and cancelling

/**
 * try_to_grab_pending(work, is_dwork): own PENDING. Deactivates the timer,
 * or takes the queued instance off its list (an inactive one is activated
 * first; its linked barriers stay, standalone), or sets PENDING if it was
 * clear. Returns whether it was pending. The caller has checked CANCELING.
 */
function grabPending(m: Machine, w: number): boolean {
  const o = workOff(m, w);
  if (m.s[o + W_TIMER]) {
    m.w(o + W_TIMER, 0); // del_timer(&dwork->timer)
    return true;
  }
  if (!m.s[o + W_PENDING]) {
    m.w(o + W_PENDING, 1);
    return false;
  }
  const list = m.s[o + W_LIST]!;
  if (list === 0) return true;
  const q = m.s[o + W_WQ]! - 1;
  const pool = m.s[o + W_POOL]! - 1;
  const linked = flushersOf(m, w, Flush.Linked);
  if (list >= LIST_INACTIVE) {
    // pwq_activate_work, then list_del: the linked barriers end on the worklist.
    unlink(m, w);
    for (const t of linked) standalone(m, t, worklistOf(pool), entries(m, worklistOf(pool)).length + 1);
    if (linked.length > 0) kick(m, pool);
  } else {
    const rank = m.s[o + W_RANK]!;
    m.w(o + W_LIST, 0);
    m.w(o + W_RANK, 0);
    if (linked.length === 0) shiftRanks(m, list, rank, -1);
    else shiftRanks(m, list, rank, linked.length - 1);
    linked.forEach((t, i) => standalone(m, t, list, rank + i));
  }
  dropWqFlushMarks(m, X_AUX2, bit(w)); // its flush colour no longer waits for it
  activateInactive(m, q, pool, true);
  return true;
}

function standalone(m: Machine, t: number, list: number, rank: number): void {
  const o = m.ctxOff(t);
  m.w(o + X_AUX1, (m.s[o + X_AUX1]! & ~0xf) | Flush.Standalone);
  m.w(o + X_AUX2, list);
  m.w(o + X_AUX3, rank);
}

// ------------------------------------------------------------ the kworker

/** B21 at work exit (process_one_work): "workqueue leaked lock or atomic", or irqs left off. */
function workLeak(m: Machine, cpu: number, ctx: number, w: number): string | null {
  const s = m.s;
  const o = m.ctxOff(ctx);
  const co = m.cpuOff(cpu);
  const comm = m.p.tasks[ctx]!.name;
  const held = s[o + X_HELD]!;
  const after = m.preemptCount(cpu);
  const before = m.entryPreemptCount(cpu, ctx);
  if (held !== 0 || after !== before) {
    const locks = popcount(held);
    return `BUG: workqueue leaked lock or atomic: ${comm}/0x${after.toString(16).padStart(8, '0')}\n` +
      `     last function: ${funcName(m, w)}` +
      (locks > 0 ? `\n${locks} lock${locks === 1 ? '' : 's'} held by ${comm}: ${heldNames(m, held)}` : '');
  }
  if (s[co + C_IRQS_OFF] !== s[o + X_ENTRY_IRQS]) {
    return `BUG: workqueue leaked irqs disabled: ${comm}\n     last function: ${funcName(m, w)} returned with irqs off (the kernel's raw_spin_lock_irq(&pool->lock) hides it; the model reports it)`;
  }
  return null;
}

/** process_one_work(): the item starts on kworker `k`: PENDING cleared before func runs. */
function startWork(m: Machine, cpu: number, ctx: number, k: number, w: number): string {
  const T = topology(m);
  const o = workOff(m, w);
  const q = m.s[o + W_WQ]! - 1;
  // process_one_work: lock_map_acquire(&pwq->wq->lockdep_map), then the work's, held around func (workerMapsHeld).
  m.observer?.lockdepMap?.(m, cpu, ctx, { kind: 'workqueue', id: q }, false);
  m.observer?.lockdepMap?.(m, cpu, ctx, { kind: 'work', id: w }, false, { kind: 'workqueue', id: q });
  const pool = poolOf(m, k);
  m.w(o + W_PENDING, 0); // set_work_pool_and_clear_pending
  m.w(o + W_POOL, pool + 1);
  m.w(o + W_RUN, m.s[o + W_RUN]! | bit(k));
  m.w(wqOff(m, q) + WQ_RUN, m.s[wqOff(m, q) + WQ_RUN]! | bit(k));
  // Barriers linked behind this instance now sit at the head of k's scheduled list.
  for (const t of flushersOf(m, w, Flush.Linked)) {
    const to = m.ctxOff(t);
    m.w(to + X_AUX1, (m.s[to + X_AUX1]! & ~0xf) | Flush.After);
    m.w(to + X_AUX2, k);
  }
  // flush_workqueue waiters on this instance now wait for k.
  for (let r = 0; r < T.nwqs; r++) {
    eachBit(m.s[wqOff(m, r) + WQ_FLUSHERS]!, (t) => {
      const to = m.ctxOff(t);
      if ((m.s[to + X_AUX2]! & bit(w)) === 0) return;
      m.w(to + X_AUX2, m.s[to + X_AUX2]! & ~bit(w));
      m.w(to + X_AUX3, m.s[to + X_AUX3]! | bit(k));
    });
  }
  // kick_pool: chains execution on the unbound pool (a no-op on a bound pool, nr_running is 1 here).
  const woken = kick(m, pool);
  m.snapshotEntry(cpu, ctx);
  m.callFrom(ctx, workAttr(m, w, 'entry'));
  return `process_one_work(&${workName(m, w)}): ${funcName(m, w)}()${woken >= 0 ? `, wakes ${workerName(m, woken)}` : ''}`;
}

/** The item of kworker `k` returned: unmark it, run the barriers behind it, free its nr_active slot. */
function finishWork(m: Machine, k: number, w: number): string[] {
  const notes: string[] = [];
  const q = currentWq(m, k);
  const pool = poolOf(m, k);
  m.w(workOff(m, w) + W_RUN, m.s[workOff(m, w) + W_RUN]! & ~bit(k));
  m.w(workOff(m, w) + W_HOG, 0); // worker_clr_flags(worker, WORKER_CPU_INTENSIVE)
  m.w(wqOff(m, q) + WQ_RUN, m.s[wqOff(m, q) + WQ_RUN]! & ~bit(k));
  const n = topology(m).nworks;
  for (let v = 0; v < n; v++) {
    for (const t of flushersOf(m, v, Flush.After, k)) {
      completeBarrier(m, t);
      notes.push(`wq_barrier_func wakes ${m.p.tasks[t]!.name}`);
    }
  }
  dropWqFlushMarks(m, X_AUX3, bit(k));
  activateInactive(m, q, pool, false);
  return notes;
}

function sleepIdle(m: Machine, cpu: number, ctx: number): void {
  block(m, cpu, ctx, channel(Chan.Worker, ctx));
}

/**
 * The kworker stays in maybe_create_worker: create_worker keeps failing
 * (CREATE_COOLDOWN between attempts) while need_to_create_worker() holds.
 * The mayday timer (pool_mayday_timeout) and its return are choices of
 * WORKER_SLEEPING; it keeps nothing else of the pool from running.
 */
function becomeManager(m: Machine, cpu: number, ctx: number, pool: number, what: string): string {
  block(m, cpu, ctx, channel(Chan.Work, MANAGE_CHAN + pool));
  return `worker_thread: ${what}; ${m.contextName(ctx).replace(/^task /, '')} retries in maybe_create_worker, the mayday timer armed`;
}

/**
 * worker_thread(): one step of a kworker. After its item returned: the
 * leak check, then the barriers behind it, then (keep_working) the next
 * entry: its scheduled list first, then the pool's worklist, where an item
 * another kworker of the pool is executing goes to that kworker's scheduled
 * list (find_worker_executing_work, move_linked_works) and a standalone
 * barrier runs at once. With nothing to do it sleeps idle. A woken idle
 * kworker first re-checks need_more_worker(). All of this is under
 * pool->lock in the kernel, so one step; the work function runs unlocked.
 */
/** The outcomes of create_worker under memory pressure: variants of the kworker's step. */
const enum CreateOutcome {
  Made = 0,
  /** Fails, and every later attempt fails too. */
  FailsForGood = 1,
  /** Fails, and a later retry may succeed. */
  FailsForNow = 2,
}

/** create_worker() succeeded: kworker slot `k` exists, idle and asleep (worker_enter_idle). */
function fillSlot(m: Machine, k: number): void {
  const task = topology(m).workerTask[k]!;
  m.w(m.ctxOff(task) + T_CHANNEL, channel(Chan.Worker, task));
}

/**
 * Under memory pressure, whether idle kworker `k` of `pool`, about to start
 * working with no other idle kworker left (!may_start_working) and no
 * manager active, must first create one: the two outcomes of create_worker
 * are then variants of its step.
 */
function mustCreate(m: Machine, pool: number, k: number): boolean {
  return topology(m).pressure && !busy(m, k) && needMoreWorker(m, pool, k) && !mayStartWorking(m, pool, k) && managerOf(m, pool) < 0;
}

function workerThread(m: Machine, cpu: number, ctx: number, variant: number): string {
  const T = topology(m);
  const k = T.taskWorker[ctx]!;
  const pool = T.workerPool[k]!;
  const notes: string[] = [];
  let checkKeep: boolean;
  const cur = currentWork(m, k);
  if (cur >= 0) {
    if (m.s[m.ctxOff(ctx) + X_CALLS] !== 0) throw new Error('kdefer internal error: worker_thread resumed inside a work function');
    const leak = workLeak(m, cpu, ctx, cur);
    if (leak) {
      m.fail('lock-leak', leak, cpu, ctx);
      return `${funcName(m, cur)}() returned: ${leak.split('\n')[0]}`;
    }
    notes.push(`${funcName(m, cur)}() returned`, ...finishWork(m, k, cur));
    checkKeep = true;
  } else {
    if (!needMoreWorker(m, pool, k)) {
      sleepIdle(m, cpu, ctx);
      return 'worker_thread: nothing to do here, sleeps idle';
    }
    if (mustCreate(m, pool, k)) {
      // manage_workers → maybe_create_worker: create the idle reserve before working.
      if (poolStalled(m, pool)) return becomeManager(m, cpu, ctx, pool, 'manage_workers: create_worker() fails again (memory pressure)');
      const slot = nextSlot(m, pool);
      if (slot >= 0 && variant === CreateOutcome.Made) {
        // create_worker succeeds: the new kworker enters idle (worker_enter_idle), and k goes on.
        fillSlot(m, slot);
        notes.push(`manage_workers: create_worker() makes ${workerName(m, slot)}`);
      } else if (slot >= 0 && variant === CreateOutcome.FailsForNow) {
        // create_worker fails, but memory may be freed: a later retry may succeed (PoolEvent.Created).
        return becomeManager(m, cpu, ctx, pool, 'manage_workers: create_worker() fails for now (memory pressure; a retry may succeed)');
      } else if (slot >= 0) {
        // create_worker fails, and memory stays short: every later attempt fails too.
        for (const z of T.poolWorkers[pool]!) {
          if (uncreated(m, z)) m.w(m.ctxOff(T.workerTask[z]!) + T_CHANNEL, channel(Chan.Worker, FAILED_KTHREAD | T.workerTask[z]!));
        }
        return becomeManager(m, cpu, ctx, pool, 'manage_workers: create_worker() fails (memory pressure)');
      }
      // No slot left: every item that may come to the pool is running, so the reserve it would
      // create would never run one; k goes on as if it had made it.
    }
    checkKeep = false;
  }
  for (;;) {
    const scheduled = entries(m, scheduledOf(k));
    const head = scheduled[0];
    if (head) {
      if (head.task >= 0) {
        unlinkBarrier(m, head.task);
        completeBarrier(m, head.task);
        notes.push(`wq_barrier_func wakes ${m.p.tasks[head.task]!.name}`);
        continue;
      }
      unlink(m, head.work);
      notes.push(startWork(m, cpu, ctx, k, head.work));
      return `worker_thread: ${notes.join('; ')}`;
    }
    if (checkKeep && !keepWorking(m, pool)) break;
    checkKeep = true;
    const next = entries(m, worklistOf(pool))[0];
    if (!next) break;
    if (next.task >= 0) {
      unlinkBarrier(m, next.task);
      completeBarrier(m, next.task);
      notes.push(`wq_barrier_func wakes ${m.p.tasks[next.task]!.name}`);
      continue;
    }
    const z = executing(m, pool, next.work, -1);
    if (z >= 0 && z !== k) {
      unlink(m, next.work);
      append(m, scheduledOf(z), next.work);
      notes.push(`&${workName(m, next.work)} runs on ${workerName(m, z)}: moved to its scheduled list`);
      continue;
    }
    unlink(m, next.work);
    notes.push(startWork(m, cpu, ctx, k, next.work));
    return `worker_thread: ${notes.join('; ')}`;
  }
  sleepIdle(m, cpu, ctx);
  notes.push('sleeps idle');
  return `worker_thread: ${notes.join('; ')}`;
}

/**
 * rescuer_thread(): one step of a WQ_MEM_RECLAIM workqueue's rescuer. For
 * each pool on wq->maydays it attaches to the pool (moving to a bound pool's
 * CPU, worker_attach_to_pool), moves that pwq's items from the worklist to
 * its scheduled list (assign_work: an item another kworker of the pool is
 * executing goes to that kworker instead), runs them one after another
 * (process_scheduled_works), asks again if the pool still needs a worker
 * for more of its items (pwq->nr_active && need_to_create_worker), kicks the
 * pool and detaches. It is never counted in nr_running (WORKER_NOT_RUNNING).
 * Not modelled: a flush barrier left standalone by a cancelled item is not
 * rescued with its pwq's items.
 */
function rescuerThread(m: Machine, cpu: number, ctx: number): string {
  const T = topology(m);
  const k = T.taskWorker[ctx]!;
  const q = T.rescuerWq[k]!;
  const qo = wqOff(m, q);
  const notes: string[] = [];
  const cur = currentWork(m, k);
  if (cur >= 0) {
    if (m.s[m.ctxOff(ctx) + X_CALLS] !== 0) throw new Error('kdefer internal error: rescuer_thread resumed inside a work function');
    const leak = workLeak(m, cpu, ctx, cur);
    if (leak) {
      m.fail('lock-leak', leak, cpu, ctx);
      return `${funcName(m, cur)}() returned: ${leak.split('\n')[0]}`;
    }
    notes.push(`${funcName(m, cur)}() returned`, ...finishWork(m, k, cur));
  }
  for (;;) {
    const attached = m.s[qo + WQ_RESCUE_POOL]! - 1;
    if (attached >= 0) {
      const head = entries(m, scheduledOf(k))[0];
      if (head && head.task >= 0) {
        unlinkBarrier(m, head.task);
        completeBarrier(m, head.task);
        notes.push(`wq_barrier_func wakes ${m.p.tasks[head.task]!.name}`);
        continue;
      }
      if (head) {
        unlink(m, head.work);
        notes.push(startWork(m, cpu, ctx, k, head.work));
        return `rescuer_thread: ${notes.join('; ')}`;
      }
      // Only after running rescued items (inside `if (!list_empty(&rescuer->scheduled))`).
      if (nrActive(m, q, attached) > 0 && needToCreate(m, attached)) {
        m.w(qo + WQ_MAYDAYS, m.s[qo + WQ_MAYDAYS]! | bit(attached));
        notes.push(`${poolName(m, attached)} still has no kworker to spare: mayday again`);
      }
      const woken = kick(m, attached);
      m.w(qo + WQ_RESCUE_POOL, 0);
      notes.push(`detaches from ${poolName(m, attached)}${woken >= 0 ? `, kick_pool wakes ${workerName(m, woken)}` : ''}`);
    }
    const maydays = m.s[qo + WQ_MAYDAYS]!;
    if (maydays === 0) {
      sleepIdle(m, cpu, ctx);
      notes.push('no mayday left: sleeps');
      return `rescuer_thread: ${notes.join('; ')}`;
    }
    const pool = lowestBit(maydays);
    m.w(qo + WQ_MAYDAYS, maydays & ~bit(pool));
    m.w(qo + WQ_RESCUE_POOL, pool + 1);
    const taken: string[] = [];
    let own = 0;
    for (const e of entries(m, worklistOf(pool))) {
      if (e.work < 0) continue;
      const wo = workOff(m, e.work);
      if (m.s[wo + W_WQ] !== q + 1 || m.s[wo + W_POOL] !== pool + 1) continue;
      const z = executing(m, pool, e.work, -1);
      unlink(m, e.work);
      append(m, scheduledOf(z >= 0 ? z : k), e.work);
      if (z < 0) own++;
      taken.push(`&${workName(m, e.work)}${z >= 0 ? ` (to ${workerName(m, z)}, which runs it)` : ''}`);
    }
    notes.push(`mayday from ${poolName(m, pool)}: takes ${taken.join(', ') || 'nothing'}`);
    if (own === 0) {
      // Nothing on rescuer->scheduled: rescuer_thread skips process_scheduled_works and the
      // re-mayday inside it (pwq->nr_active && need_to_create_worker), kicks the pool and detaches.
      const woken = kick(m, pool);
      m.w(qo + WQ_RESCUE_POOL, 0);
      notes.push(`detaches${woken >= 0 ? `, kick_pool wakes ${workerName(m, woken)}` : ''}`);
      continue;
    }
    const poolCpu = T.poolCpu[pool]!;
    if (poolCpu >= 0 && poolCpu !== cpu) {
      // worker_attach_to_pool → set_cpus_allowed_ptr: it goes on on the pool's CPU.
      yieldCpu(m, cpu, ctx);
      m.w(m.ctxOff(ctx) + X_CPU, poolCpu);
      notes.push(`moves to cpu${poolCpu}`);
      return `rescuer_thread: ${notes.join('; ')}`;
    }
  }
}

// ------------------------------------------------------------ waits

/** The kworkers (as contexts) that a queued instance of `w` waits behind. */
function queuedBehind(m: Machine, w: number): number[] {
  const o = workOff(m, w);
  const list = m.s[o + W_LIST]!;
  return listBehind(m, list, m.s[o + W_WQ]! - 1);
}

function listBehind(m: Machine, list: number, q: number): number[] {
  const T = topology(m);
  const tasks = (mask: number): number[] => {
    const out: number[] = [];
    eachBit(mask, (k) => out.push(T.workerTask[k]!));
    return out;
  };
  const busyIn = (pool: number): number => {
    let mask = 0;
    eachBit(poolMaskNow(m, pool), (k) => { if (busy(m, k)) mask |= bit(k); });
    return mask;
  };
  if (list >= LIST_INACTIVE) {
    const pool = (list - LIST_INACTIVE) % 32;
    const active = m.s[wqOff(m, q) + WQ_RUN]! & poolMaskNow(m, pool);
    return tasks(active !== 0 ? active : busyIn(pool));
  }
  if (list >= LIST_SCHEDULED) return [T.workerTask[list - LIST_SCHEDULED]!];
  if (list > 0) return tasks(busyIn(list - LIST_WORKLIST));
  return [];
}

/** Why an item on `pool`'s worklist gets no kworker under memory pressure, or ''. */
function stallNote(m: Machine, pool: number, q: number): string {
  const manager = pool >= 0 ? managerOf(m, pool) : -1;
  if (manager < 0 || !poolStalled(m, pool)) return '';
  const rescue = q >= 0 && topology(m).wqRescuer[q]! >= 0 ? '' : `, and ${q >= 0 ? wqName(m, q) : 'its workqueue'} has no rescuer (not WQ_MEM_RECLAIM)`;
  return `; ${poolName(m, pool)} cannot grow: create_worker() fails (memory pressure), ${workerName(m, manager)} retries in maybe_create_worker${rescue}`;
}

/** Why a flush_work/cancel_work_sync waiter waits, and on whom. */
function barrierWait(m: Machine, ctx: number, w: number, what: string): WaitEdge {
  const o = m.ctxOff(ctx);
  const state = m.s[o + X_AUX1]! & 0xf;
  const me = m.contextName(ctx);
  const name = `&${workName(m, w)}`;
  switch (state) {
    case Flush.After: {
      const k = m.s[o + X_AUX2]!;
      const task = topology(m).workerTask[k]!;
      const self = task === ctx ? ' (itself: the barrier can only run after the item that waits for it)' : '';
      return { on: [task], why: `${me}: ${what} sleeps until ${name}'s running instance on ${workerName(m, k)} returns from ${funcName(m, w)}()${self}` };
    }
    case Flush.Linked: {
      const on = queuedBehind(m, w);
      const o = workOff(m, w);
      const stall = m.s[o + W_LIST]! > 0 && m.s[o + W_LIST]! < LIST_SCHEDULED ? stallNote(m, m.s[o + W_POOL]! - 1, m.s[o + W_WQ]! - 1) : '';
      return { on, why: `${me}: ${what} sleeps until ${name}, ${pendingState(m, w)}, has run (a barrier is linked behind it)${on.length ? `; ahead of it: ${on.map((t) => m.p.tasks[t]!.name).join(', ')}` : ''}${stall}` };
    }
    case Flush.Standalone: {
      const on = listBehind(m, m.s[o + X_AUX2]!, -1);
      return { on, why: `${me}: ${what} sleeps until its barrier, left behind by the cancelled ${name}, is processed` };
    }
    default:
      return { on: [], why: `${me}: ${what} is about to return` };
  }
}

// ------------------------------------------------------------ ops

const WORKQUEUE_OPERAND: OperandSpec = { kind: 'object', field: 'target', objectKind: 'workqueue' };
const WORK_OPERAND: OperandSpec = { kind: 'object', field: 'obj', objectKind: 'work' };
const DELAYED_WORK_OPERAND: OperandSpec = {
  kind: 'object', field: 'obj', objectKind: 'work',
  requires: { attr: 'delayed', problem: 'is a work_struct, not a delayed_work (declare it with delayed: true)' },
};
const RET: OperandSpec = { kind: 'reg-def', field: 'reg', optional: true };
const CPU_PACKED: OperandSpec = { kind: 'int', field: 'cpu', min: 0, max: 7, packed: true };
const DELAY_PACKED: OperandSpec = { kind: 'int', field: 'count', min: 0, max: 0x7fff, packed: true };
const lo16 = (x: number): number => x & 0xffff;
const hi16 = (x: number): number => x >>> 16;

const setRet = (m: Machine, ctx: number, reg: number, value: boolean | number): void => {
  if (reg >= 0) m.setReg(ctx, reg, typeof value === 'boolean' ? (value ? 1 : 0) : value);
};
const bool = (b: boolean): string => (b ? 'true' : 'false');

/** Work queues appeared in 2.5.41: the 2.4 profile (globalBH) has task queues and keventd instead. */
function unavailable(flags: KernelFlags): string | null {
  return flags.globalBH ? 'work queues appeared in 2.5.41; the 2.4 profile has task queues instead (tq_structs, queue_task, schedule_task)' : null;
}

/**
 * An op whose label is the outcome its exec will have: the label runs the
 * same code on a copy of the state, so the two can never disagree.
 */
function op(
  name: string,
  operands: readonly OperandSpec[],
  run: (m: Machine, cpu: number, ctx: number, a: number, b: number, c: number) => string,
  more: Partial<OpSemantics> = {},
): OpSemantics {
  return {
    name,
    operands,
    unavailable,
    exec(m, cpu, ctx, a, b, c) {
      run(m, cpu, ctx, a, b, c);
    },
    label(m, cpu, ctx, a, b, c) {
      return m.dryRun(() => run(m, cpu, ctx, a, b, c));
    },
    ...more,
  };
}

/** The 6.10 disable/enable ops: unavailable on kernels without them (flags.workDisable). */
const DISABLE_OPS: ReadonlySet<string> = new Set([
  'disable_work', 'disable_delayed_work', 'disable_work_sync', 'disable_delayed_work_sync', 'enable_work', 'enable_delayed_work',
]);
function since610(op: OpSemantics): OpSemantics {
  if (!DISABLE_OPS.has(op.name)) return op;
  return {
    ...op,
    unavailable: (flags) => unavailable(flags) ?? (flags.workDisable ? null : `${op.name}() arrived in 6.10 (86898fa6b8cd); this kernel (flags.workDisable false) has cancel_work(_sync) only`),
  };
}

/** The queue_work family: queue_work_on(cpu or WORK_CPU_UNBOUND, wq, work). */
function queueOp(m: Machine, cpu: number, ctx: number, text: string, reqCpu: number, q: number, w: number, reg: number): string {
  const r = queueWorkOn(m, cpu, ctx, reqCpu, q, w);
  if (r === null) return `${text}: ${m.message ?? 'violation'}`;
  setRet(m, ctx, reg, r.queued);
  m.advance(ctx);
  return `${text} → ${bool(r.queued)}: ${r.note}`;
}

/** queue_delayed_work_on(): test_and_set PENDING, then __queue_delayed_work. */
function queueDelayedOp(m: Machine, cpu: number, ctx: number, text: string, q: number, w: number, delay: number, reg: number): string {
  const o = workOff(m, w);
  if (m.s[o + W_PENDING] || m.s[o + W_DISABLE]) {
    setRet(m, ctx, reg, false);
    m.advance(ctx);
    return `${text} → false: ${m.s[o + W_PENDING] ? `already pending (${pendingState(m, w)})` : disabledNote(m, w)}`;
  }
  m.w(o + W_PENDING, 1);
  const note = queueDelayed(m, cpu, ctx, -1, q, w, delay);
  if (note === null) return `${text}: ${m.message ?? 'violation'}`;
  setRet(m, ctx, reg, true);
  m.advance(ctx);
  return `${text} → true: ${note}`;
}

/**
 * start_flush_work + wait_for_completion: put a barrier behind the queued
 * instance (linked) or, if none, behind the running one in the work's last
 * pool, and sleep; false if the work is idle. Phase 0 only; the caller
 * handles the wakeup.
 */
function insertBarrier(m: Machine, cpu: number, ctx: number, w: number): string | null {
  const o = workOff(m, w);
  const to = m.ctxOff(ctx);
  if (ctx >= MAX_MASK_BITS) throw new Error(`kdefer limit: flushing task ${m.contextName(ctx)} has id ${ctx}; at most ${MAX_MASK_BITS} tasks`);
  let note: string;
  if (m.s[o + W_LIST] !== 0) {
    m.w(to + X_AUX1, (m.s[to + X_AUX1]! & ~0xf) | Flush.Linked);
    note = `sleeps until &${workName(m, w)} (${pendingState(m, w)}) has run`;
  } else {
    const pool = m.s[o + W_POOL]! - 1;
    const k = pool >= 0 ? executing(m, pool, w, -1) : -1;
    if (k < 0) return null;
    m.w(to + X_AUX1, (m.s[to + X_AUX1]! & ~0xf) | Flush.After);
    m.w(to + X_AUX2, k);
    note = `sleeps until ${funcName(m, w)}() returns on ${workerName(m, k)}`;
  }
  m.w(o + W_FLUSHERS, m.s[o + W_FLUSHERS]! | bit(ctx));
  m.w(to + X_PHASE, 1);
  block(m, cpu, ctx, channel(Chan.Work, w));
  return note;
}

/** The flusher woke: its barrier ran. Clear its words; returns the saved value. */
function barrierDone(m: Machine, ctx: number): number | null {
  const o = m.ctxOff(ctx);
  if ((m.s[o + X_AUX1]! & 0xf) !== Flush.Done) return null;
  const saved = m.s[o + X_AUX1]! >>> 4;
  m.w(o + X_AUX1, 0);
  m.w(o + X_AUX2, 0);
  m.w(o + X_AUX3, 0);
  return saved;
}

/**
 * start_flush_work once it has a barrier to wait for (the work is queued
 * or running; an idle work is "already gone" and touches nothing):
 * touch_work_lockdep_map, and for flush_work, touch_wq_lockdep_map if the
 * workqueue is ordered (saved_max_active == 1) or has a rescuer
 * (WQ_MEM_RECLAIM): the lockdep annotations of kernel/workqueue.c (6.10+;
 * before cmwq, always).
 */
function touchFlushMaps(m: Machine, cpu: number, ctx: number, w: number, fromCancel: boolean): void {
  const observer = m.observer;
  if (observer?.lockdepMap === undefined) return;
  observer.lockdepMap(m, cpu, ctx, { kind: 'work', id: w }, false);
  const q = m.s[workOff(m, w) + W_WQ]! - 1;
  if (fromCancel || q < 0) return;
  const flags = wqAttr(m, q, 'flags');
  // Before cmwq (2.6.36) every workqueue was a thread per CPU running its items in turn, and flush_work
  // always touched the workqueue's map (flush_cpu_workqueue / wait_on_cpu_work).
  if (topology(m).perWq || wqAttr(m, q, 'maxActive') === 1 || (flags & (WQ_FLAG_BITS.ORDERED | WQ_FLAG_BITS.MEM_RECLAIM)) !== 0) {
    observer.lockdepMap(m, cpu, ctx, { kind: 'workqueue', id: q }, false);
  }
}

/** flush_work / flush_delayed_work (after its timer step). */
function flushOp(m: Machine, cpu: number, ctx: number, text: string, w: number, reg: number): string {
  const o = m.ctxOff(ctx);
  if (m.s[o + X_PHASE] === 1) {
    if (barrierDone(m, ctx) === null) {
      block(m, cpu, ctx, channel(Chan.Work, w));
      return `${text}: still waiting, sleeps again`;
    }
    setRet(m, ctx, reg, true);
    m.advance(ctx);
    return `${text} → true: the barrier ran`;
  }
  const note = insertBarrier(m, cpu, ctx, w);
  if (note !== null) {
    touchFlushMaps(m, cpu, ctx, w, false);
    return `${text}: ${note}`;
  }
  setRet(m, ctx, reg, false);
  m.advance(ctx);
  return `${text} → false: idle, nothing to wait for`;
}

/**
 * __cancel_work_timer (cancel_work_sync, cancel_delayed_work_sync): grab
 * PENDING (sleep while another canceller holds it), mark CANCELING, wait for
 * the running instance, then clear the work's data. Returns whether it was
 * pending.
 */
function cancelSyncOp(m: Machine, cpu: number, ctx: number, text: string, w: number, reg: number, disable = false): string {
  const o = m.ctxOff(ctx);
  const wo = workOff(m, w);
  let ret: number;
  if (m.s[o + X_PHASE] === 1) {
    const saved = barrierDone(m, ctx);
    if (saved === null) {
      block(m, cpu, ctx, channel(Chan.Work, w));
      return `${text}: still waiting, sleeps again`;
    }
    ret = saved;
  } else {
    if (!mightSleep(m, cpu, ctx, `${text}`)) return `${text}: ${m.message}`;
    const canceller = m.s[wo + W_CANCELER]! - 1;
    if (canceller >= 0) {
      // try_to_grab_pending → -ENOENT: sleep on cancel_waitq until the other canceller is done.
      block(m, cpu, ctx, channel(Chan.Work, CANCEL_CHAN + w));
      return `${text}: ${m.p.tasks[canceller]!.name} is cancelling it (CANCELING), sleeps`;
    }
    ret = grabPending(m, w) ? 1 : 0;
    if (disable) m.w(wo + W_DISABLE, m.s[wo + W_DISABLE]! + 1); // work_offqd_disable (WORK_CANCEL_DISABLE)
    m.w(wo + W_CANCELER, ctx + 1); // mark_work_canceling
    m.w(o + X_AUX1, ret << 4);
    const note = insertBarrier(m, cpu, ctx, w);
    if (note !== null) {
      touchFlushMaps(m, cpu, ctx, w, true);
      return `${text}: PENDING grabbed${ret ? ' (was pending)' : ''}, CANCELING; ${note}`;
    }
    m.w(o + X_AUX1, 0);
  }
  // clear_work_data(): PENDING and CANCELING off, no pool; wake other cancellers.
  m.w(wo + W_PENDING, 0);
  m.w(wo + W_CANCELER, 0);
  m.w(wo + W_POOL, 0);
  m.w(wo + W_WQ, 0);
  m.w(wo + W_DCPU, 0);
  wakeAll(m, channel(Chan.Work, CANCEL_CHAN + w));
  setRet(m, ctx, reg, ret !== 0);
  m.advance(ctx);
  return `${text} → ${bool(ret !== 0)}: neither pending nor running now`;
}

/**
 * __cancel_work (cancel_work, cancel_delayed_work): grab PENDING and drop
 * it; never waits. With `disable` (disable_work, WORK_CANCEL_DISABLE) it
 * grabs PENDING with work_grab_pending, which waits out another canceller
 * (the op's readiness), and counts one more disable.
 */
function cancelOp(m: Machine, _cpu: number, ctx: number, text: string, w: number, reg: number, disable = false): string {
  const wo = workOff(m, w);
  if (disable) {
    const was = grabPending(m, w);
    m.w(wo + W_DISABLE, m.s[wo + W_DISABLE]! + 1);
    m.w(wo + W_PENDING, 0);
    setRet(m, ctx, reg, was);
    m.advance(ctx);
    const running = m.s[wo + W_RUN] !== 0 ? `; ${funcName(m, w)}() may still be running` : '';
    return `${text} → ${bool(was)}: disable count ${m.s[wo + W_DISABLE]}, ${was ? 'no longer pending' : 'was not pending'}${running}`;
  }
  if (m.s[wo + W_CANCELER]) {
    setRet(m, ctx, reg, false);
    m.advance(ctx);
    return `${text} → false: being cancelled by ${m.p.tasks[m.s[wo + W_CANCELER]! - 1]!.name} (-ENOENT)`;
  }
  const was = grabPending(m, w);
  m.w(wo + W_PENDING, 0); // set_work_pool_and_clear_pending: the pool is kept
  setRet(m, ctx, reg, was);
  m.advance(ctx);
  const running = m.s[wo + W_RUN] !== 0 ? `; ${funcName(m, w)}() may still be running` : '';
  return `${text} → ${bool(was)}: ${was ? 'no longer pending' : 'was not pending'}${running}`;
}

/** The instances of wq `q` in flight now: queued ones (works mask) and running ones (kworkers mask). */
function inFlight(m: Machine, q: number): { works: number; workers: number } {
  const T = topology(m);
  let works = 0;
  for (let w = 0; w < T.nworks; w++) {
    const o = workOff(m, w);
    if (m.s[o + W_LIST] !== 0 && m.s[o + W_WQ] === q + 1) works |= bit(w);
  }
  return { works, workers: m.s[wqOff(m, q) + WQ_RUN]! };
}

const enum WqWait { Flush, Drain, Destroy }

/**
 * __flush_workqueue: wait for every item queued or running on `q` at the
 * call (the flush colour). drain_workqueue: with __WQ_DRAINING set (only
 * chained queueing allowed), flush again until nothing is in flight.
 * destroy_workqueue: drain, then free the workqueue.
 */
function wqWaitOp(m: Machine, cpu: number, ctx: number, text: string, q: number, kind: WqWait): string {
  const o = m.ctxOff(ctx);
  const qo = wqOff(m, q);
  if (m.s[o + X_PHASE] === 0) {
    if (m.s[qo + WQ_DEAD]) {
      m.fail('use-after-free', `BUG: KASAN: slab-use-after-free in ${text}: workqueue ${wqName(m, q)} was freed by destroy_workqueue()`, cpu, ctx);
      return `${text}: ${m.message}`;
    }
    if (!mightSleep(m, cpu, ctx, text)) return `${text}: ${m.message}`;
    if (ctx >= MAX_MASK_BITS) throw new Error(`kdefer limit: flushing task ${m.contextName(ctx)} has id ${ctx}; at most ${MAX_MASK_BITS} tasks`);
    // __flush_workqueue: touch_wq_lockdep_map(wq) first (drain and destroy flush too).
    m.observer?.lockdepMap?.(m, cpu, ctx, { kind: 'workqueue', id: q }, false);
    if (kind !== WqWait.Flush) m.w(qo + WQ_DRAINERS, m.s[qo + WQ_DRAINERS]! + 1);
    m.w(o + X_PHASE, 1);
  } else if ((m.s[o + X_AUX1]! & 0xf) !== Flush.WqDone) {
    block(m, cpu, ctx, channel(Chan.Work, WQ_CHAN + q));
    return `${text}: still waiting, sleeps again`;
  }
  const flight = inFlight(m, q);
  if (flight.works !== 0 || flight.workers !== 0) {
    if (kind === WqWait.Flush && m.s[o + X_AUX1] === Flush.WqDone) {
      // The flush colour of the call has drained; later queueings are not waited for.
      return finishWqWait(m, ctx, text, q, kind);
    }
    m.w(o + X_AUX1, Flush.Wq);
    m.w(o + X_AUX2, flight.works);
    m.w(o + X_AUX3, flight.workers);
    m.w(qo + WQ_FLUSHERS, m.s[qo + WQ_FLUSHERS]! | bit(ctx));
    block(m, cpu, ctx, channel(Chan.Work, WQ_CHAN + q));
    const names: string[] = [];
    eachBit(flight.works, (w) => names.push(`&${workName(m, w)}`));
    eachBit(flight.workers, (k) => names.push(`&${workName(m, currentWork(m, k))} on ${workerName(m, k)}`));
    return `${text}: sleeps until ${names.join(', ')} ${names.length === 1 ? 'has' : 'have'} run`;
  }
  return finishWqWait(m, ctx, text, q, kind);
}

function finishWqWait(m: Machine, ctx: number, text: string, q: number, kind: WqWait): string {
  const o = m.ctxOff(ctx);
  const qo = wqOff(m, q);
  m.w(o + X_AUX1, 0);
  m.w(o + X_AUX2, 0);
  m.w(o + X_AUX3, 0);
  if (kind !== WqWait.Flush) m.w(qo + WQ_DRAINERS, m.s[qo + WQ_DRAINERS]! - 1);
  if (kind === WqWait.Destroy) m.w(qo + WQ_DEAD, 1);
  m.advance(ctx);
  return kind === WqWait.Flush ? `${text}: everything queued before it has run`
    : kind === WqWait.Drain ? `${text}: empty`
      : `${text}: drained and freed`;
}

function wqWaitFor(m: Machine, ctx: number, q: number, text: string): WaitEdge {
  const T = topology(m);
  const o = m.ctxOff(ctx);
  const on: number[] = [];
  eachBit(m.s[o + X_AUX3]!, (k) => on.push(T.workerTask[k]!));
  eachBit(m.s[o + X_AUX2]!, (w) => on.push(...queuedBehind(m, w)));
  const uniq = [...new Set(on)].sort((x, y) => x - y);
  const self = uniq.includes(ctx) ? ' (including its own item: a work flushing its own workqueue)' : '';
  return { on: uniq, why: `${m.contextName(ctx)}: ${text} sleeps until ${uniq.map((t) => m.p.tasks[t]!.name).join(', ') || 'the pool'} ${uniq.length === 1 ? 'finishes its' : 'finish their'} ${wqName(m, q)} items${self}` };
}

const wqText = (m: Machine, q: number): string => wqName(m, q);
const workText = (m: Machine, w: number): string => `&${workName(m, w)}`;

/** work_grab_pending in disable_work: it waits while another task is cancelling the item. */
const disableWait: Partial<OpSemantics> = {
  ready(m, _cpu, _ctx, a) {
    return m.s[workOff(m, a) + W_CANCELER] === 0;
  },
  waitsFor(m, _cpu, ctx, a) {
    const canceller = m.s[workOff(m, a) + W_CANCELER]! - 1;
    return { on: canceller >= 0 ? [canceller] : [], why: `${m.contextName(ctx)}: disabling ${workText(m, a)} waits until ${canceller >= 0 ? m.p.tasks[canceller]!.name : 'the other canceller'} has cancelled it` };
  },
};

const ALL_WORKQUEUE_OPS: readonly OpSemantics[] = [
  {
    // worker_thread(): the kworkers' builtin loop (see workerThread); under memory pressure
    // a kworker that must create one first has create_worker's two outcomes as variants.
    name: 'worker_thread',
    internal: true,
    variants(m, _cpu, ctx) {
      const T = topology(m);
      const k = T.taskWorker[ctx]!;
      return mustCreate(m, T.workerPool[k]!, k) && nextSlot(m, T.workerPool[k]!) >= 0 ? 3 : 1;
    },
    exec(m, cpu, ctx, _a, _b, _c, variant) {
      workerThread(m, cpu, ctx, variant);
    },
    label(m, cpu, ctx, _a, _b, _c, variant) {
      return m.dryRun(() => workerThread(m, cpu, ctx, variant));
    },
    waitsFor(m, _cpu, ctx) {
      const T = topology(m);
      const k = T.taskWorker[ctx]!;
      const pool = T.workerPool[k]!;
      const pending = entries(m, worklistOf(pool)).filter((e) => e.work >= 0).map((e) => `&${workName(m, e.work)} (${wqName(m, m.s[workOff(m, e.work) + W_WQ]! - 1)})`);
      return {
        on: [],
        why: `${m.contextName(ctx)}: BUG: workqueue lockup: maybe_create_worker() cannot create a kworker (memory pressure) while ${poolName(m, pool)} has work pending (${pending.join(', ') || 'none'}) that no rescuer takes (its workqueues are not WQ_MEM_RECLAIM)`,
      };
    },
  },
  {
    // rescuer_thread(): the rescuer of a WQ_MEM_RECLAIM workqueue (see rescuerThread).
    name: 'rescuer_thread',
    internal: true,
    exec(m, cpu, ctx) {
      rescuerThread(m, cpu, ctx);
    },
    label(m, cpu, ctx) {
      return m.dryRun(() => rescuerThread(m, cpu, ctx));
    },
  },
  // queue_work(wq, work) = queue_work_on(WORK_CPU_UNBOUND, wq, work): true if it was not pending.
  op('queue_work', [WORKQUEUE_OPERAND, WORK_OPERAND, RET], (m, cpu, ctx, a, b, c) =>
    queueOp(m, cpu, ctx, `queue_work(${wqText(m, a)}, ${workText(m, b)})`, -1, a, b, c)),
  op('queue_work_on', [WORKQUEUE_OPERAND, CPU_PACKED, WORK_OPERAND, RET], (m, cpu, ctx, a, b, c) =>
    queueOp(m, cpu, ctx, `queue_work_on(${hi16(a)}, ${wqText(m, lo16(a))}, ${workText(m, b)})`, hi16(a), lo16(a), b, c)),
  // schedule_work(work) = queue_work(system_wq, work).
  op('schedule_work', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) =>
    queueOp(m, cpu, ctx, `schedule_work(${workText(m, a)})`, -1, topology(m).systemWq, a, b)),
  op('schedule_work_on', [WORK_OPERAND, CPU_PACKED, RET], (m, cpu, ctx, a, b) =>
    queueOp(m, cpu, ctx, `schedule_work_on(${hi16(a)}, ${workText(m, lo16(a))})`, hi16(a), topology(m).systemWq, lo16(a), b)),
  // queue_delayed_work(wq, dwork, delay): arms dwork->timer (delay 0: queues now).
  op('queue_delayed_work', [WORKQUEUE_OPERAND, DELAY_PACKED, DELAYED_WORK_OPERAND, RET], (m, cpu, ctx, a, b, c) =>
    queueDelayedOp(m, cpu, ctx, `queue_delayed_work(${wqText(m, lo16(a))}, ${workText(m, b)}, ${hi16(a)})`, lo16(a), b, hi16(a), c)),
  op('schedule_delayed_work', [DELAYED_WORK_OPERAND, DELAY_PACKED, RET], (m, cpu, ctx, a, b) =>
    queueDelayedOp(m, cpu, ctx, `schedule_delayed_work(${workText(m, lo16(a))}, ${hi16(a)})`, topology(m).systemWq, lo16(a), hi16(a), b)),
  // mod_delayed_work(wq, dwork, delay): steal PENDING (timer or queue), re-arm; -ENOENT (cancelling) → true.
  op('mod_delayed_work', [WORKQUEUE_OPERAND, DELAY_PACKED, DELAYED_WORK_OPERAND, RET], (m, cpu, ctx, a, b, c) => {
    const text = `mod_delayed_work(${wqText(m, lo16(a))}, ${workText(m, b)}, ${hi16(a)})`;
    if (m.s[workOff(m, b) + W_CANCELER]) {
      setRet(m, ctx, c, true);
      m.advance(ctx);
      return `${text} → true: being cancelled (-ENOENT), not queued`;
    }
    const was = grabPending(m, b);
    if (m.s[workOff(m, b) + W_DISABLE]) {
      // mod_delayed_work_on: if (!clear_pending_if_disabled(work)) __queue_delayed_work(…).
      m.w(workOff(m, b) + W_PENDING, 0);
      setRet(m, ctx, c, was);
      m.advance(ctx);
      return `${text} → ${bool(was)}: ${disabledNote(m, b)}`;
    }
    const note = queueDelayed(m, cpu, ctx, -1, lo16(a), b, hi16(a));
    if (note === null) return `${text}: ${m.message}`;
    setRet(m, ctx, c, was);
    m.advance(ctx);
    return `${text} → ${bool(was)}: ${note}`;
  }),
  op('flush_work', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) => {
    const text = `flush_work(${workText(m, a)})`;
    if (m.s[m.ctxOff(ctx) + X_PHASE] === 0 && !mightSleep(m, cpu, ctx, text)) return `${text}: ${m.message}`;
    return flushOp(m, cpu, ctx, text, a, b);
  }, { waitsFor: (m, _cpu, ctx, a) => barrierWait(m, ctx, a, `flush_work(${workText(m, a)})`) }),
  // flush_delayed_work: if del_timer_sync() deactivated the timer, __queue_work(dwork->cpu, ...) now; then flush_work.
  op('flush_delayed_work', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) => {
    const text = `flush_delayed_work(${workText(m, a)})`;
    const o = workOff(m, a);
    let note = '';
    if (m.s[m.ctxOff(ctx) + X_PHASE] === 0) {
      if (!mightSleep(m, cpu, ctx, text)) return `${text}: ${m.message}`;
      if (m.s[o + W_TIMER]) {
        m.w(o + W_TIMER, 0);
        const queued = queueWork(m, cpu, ctx, m.s[o + W_DCPU]! - 1, m.s[o + W_WQ]! - 1, a);
        if (queued === null) return `${text}: ${m.message}`;
        note = ` (timer deactivated, ${queued})`;
      }
    }
    return flushOp(m, cpu, ctx, `${text}${note}`, a, b);
  }, { waitsFor: (m, _cpu, ctx, a) => barrierWait(m, ctx, a, `flush_delayed_work(${workText(m, a)})`) }),
  op('cancel_work_sync', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) =>
    cancelSyncOp(m, cpu, ctx, `cancel_work_sync(${workText(m, a)})`, a, b), { waitsFor: cancelWaitFor('cancel_work_sync') }),
  op('cancel_delayed_work_sync', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) =>
    cancelSyncOp(m, cpu, ctx, `cancel_delayed_work_sync(${workText(m, a)})`, a, b), { waitsFor: cancelWaitFor('cancel_delayed_work_sync') }),
  op('cancel_work', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) => cancelOp(m, cpu, ctx, `cancel_work(${workText(m, a)})`, a, b)),
  op('cancel_delayed_work', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) => cancelOp(m, cpu, ctx, `cancel_delayed_work(${workText(m, a)})`, a, b)),
  // 6.10+ (flags.workDisable): disable_work(_sync), disable_delayed_work(_sync), enable_work, enable_delayed_work.
  op('disable_work', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) => cancelOp(m, cpu, ctx, `disable_work(${workText(m, a)})`, a, b, true), disableWait),
  op('disable_delayed_work', [DELAYED_WORK_OPERAND, RET], (m, cpu, ctx, a, b) => cancelOp(m, cpu, ctx, `disable_delayed_work(${workText(m, a)})`, a, b, true), disableWait),
  op('disable_work_sync', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) =>
    cancelSyncOp(m, cpu, ctx, `disable_work_sync(${workText(m, a)})`, a, b, true), { waitsFor: cancelWaitFor('disable_work_sync') }),
  op('disable_delayed_work_sync', [DELAYED_WORK_OPERAND, RET], (m, cpu, ctx, a, b) =>
    cancelSyncOp(m, cpu, ctx, `disable_delayed_work_sync(${workText(m, a)})`, a, b, true), { waitsFor: cancelWaitFor('disable_delayed_work_sync') }),
  op('enable_work', [WORK_OPERAND, RET], (m, cpu, ctx, a, b) => enableOp(m, cpu, ctx, `enable_work(${workText(m, a)})`, a, b)),
  op('enable_delayed_work', [DELAYED_WORK_OPERAND, RET], (m, cpu, ctx, a, b) => enableOp(m, cpu, ctx, `enable_delayed_work(${workText(m, a)})`, a, b)),
  op('flush_workqueue', [WORKQUEUE_OPERAND], (m, cpu, ctx, a) =>
    wqWaitOp(m, cpu, ctx, `flush_workqueue(${wqText(m, a)})`, a, WqWait.Flush), { waitsFor: (m, _cpu, ctx, a) => wqWaitFor(m, ctx, a, `flush_workqueue(${wqText(m, a)})`) }),
  // flush_scheduled_work() = flush_workqueue(system_wq) (deprecated: it waits for everybody's items).
  op('flush_scheduled_work', [], (m, cpu, ctx) =>
    wqWaitOp(m, cpu, ctx, 'flush_scheduled_work()', topology(m).systemWq, WqWait.Flush), { waitsFor: (m, _cpu, ctx) => wqWaitFor(m, ctx, topology(m).systemWq, 'flush_scheduled_work()') }),
  op('drain_workqueue', [WORKQUEUE_OPERAND], (m, cpu, ctx, a) =>
    wqWaitOp(m, cpu, ctx, `drain_workqueue(${wqText(m, a)})`, a, WqWait.Drain), { waitsFor: (m, _cpu, ctx, a) => wqWaitFor(m, ctx, a, `drain_workqueue(${wqText(m, a)})`) }),
  op('destroy_workqueue', [WORKQUEUE_OPERAND], (m, cpu, ctx, a) =>
    wqWaitOp(m, cpu, ctx, `destroy_workqueue(${wqText(m, a)})`, a, WqWait.Destroy), { waitsFor: (m, _cpu, ctx, a) => wqWaitFor(m, ctx, a, `destroy_workqueue(${wqText(m, a)})`) }),
];

export const WORKQUEUE_OPS: readonly OpSemantics[] = ALL_WORKQUEUE_OPS.map(since610);

/** enable_work(): one disable less (work_offqd_enable); true when the count reaches 0. Queues nothing. */
function enableOp(m: Machine, cpu: number, ctx: number, text: string, w: number, reg: number): string {
  const o = workOff(m, w);
  const count = m.s[o + W_DISABLE]!;
  if (count === 0) {
    m.fail('assertion', `workqueue: work disable count underflowed\nWARNING: CPU: ${cpu} at kernel/workqueue.c work_offqd_enable: ${text} by ${m.contextName(ctx)} without a matching disable`, cpu, ctx);
    return `${text}: ${m.message}`;
  }
  m.w(o + W_DISABLE, count - 1);
  setRet(m, ctx, reg, count === 1);
  m.advance(ctx);
  return `${text} → ${bool(count === 1)}: disable count ${count} → ${count - 1}`;
}

function cancelWaitFor(name: string) {
  return (m: Machine, _cpu: number, ctx: number, a: number): WaitEdge => {
    const o = m.ctxOff(ctx);
    const text = `${name}(${workText(m, a)})`;
    if (m.s[o + X_PHASE] === 0) {
      const canceller = m.s[workOff(m, a) + W_CANCELER]! - 1;
      return {
        on: canceller >= 0 ? [canceller] : [],
        why: `${m.contextName(ctx)}: ${text} sleeps on cancel_waitq until ${canceller >= 0 ? m.p.tasks[canceller]!.name : 'the other canceller'} has cancelled it`,
      };
    }
    return barrierWait(m, ctx, a, text);
  };
}

// ------------------------------------------------------------ choices

/** The workqueues a mayday of `pool` would wake the rescuer of now: their items wait on its worklist and their pwq is not on wq->maydays yet. */
function maydaysDue(m: Machine, pool: number): number[] {
  const T = topology(m);
  const out: number[] = [];
  for (const e of entries(m, worklistOf(pool))) {
    if (e.work < 0) continue;
    const q = m.s[workOff(m, e.work) + W_WQ]! - 1;
    if (q >= 0 && T.wqRescuer[q]! >= 0 && (m.s[wqOff(m, q) + WQ_MAYDAYS]! & bit(pool)) === 0 && m.s[wqOff(m, q) + WQ_RESCUE_POOL] !== pool + 1 && !out.includes(q)) out.push(q);
  }
  return out;
}

/** WORKER_SLEEPING's events of a pool. */
const enum PoolEvent {
  /** wq_worker_sleeping → kick_pool: wake the first idle kworker. */
  Kick = 0,
  /** pool_mayday_timeout → send_mayday: wake the rescuers of the stalled pool's items. */
  Mayday = 1,
  /** maybe_create_worker's retry finds need_to_create_worker() false: the manager returns. */
  ManagerReturns = 2,
  /** wq_worker_tick: the running kworker hogs the CPU; CPU_INTENSIVE, kick_pool. */
  CpuHog = 3,
  /** maybe_create_worker's retry succeeds (a failure for now): the slot is filled, the manager returns. */
  Created = 4,
}

/**
 * Events of a pool that are not a step of a kworker: wq_worker_sleeping →
 * kick_pool (the kworker running the pool's items sleeps inside its work
 * function while work is pending; the first idle kworker is woken), and,
 * under memory pressure, the manager's mayday timer (pool_mayday_timeout,
 * while need_to_create_worker()), its return from maybe_create_worker
 * once the need is gone (it retries every CREATE_COOLDOWN), and, after a
 * failure for now, a retry that succeeds. Choices, on the CPU of the
 * kworker concerned.
 */
const WORKER_SLEEPING: ChoiceSource = {
  name: 'wq_worker_sleeping',
  active: (p) => (p.objects['work']?.length ?? 0) > 0,
  collect(m, cpu, out) {
    const T = topology(m);
    if (T.nworks === 0) return;
    for (let pool = 0; pool < T.poolWorkers.length; pool++) {
      if (needMoreWorker(m, pool, -1)) {
        const k = firstIdle(m, pool);
        if (k >= 0 && asleepIdle(m, k) && m.cpuOfCtx(T.workerTask[k]!) === cpu) out.push(m.choice(WORKER_SLEEPING, cpu, pool, PoolEvent.Kick));
      }
      if (hogOn(m, pool, cpu) >= 0) out.push(m.choice(WORKER_SLEEPING, cpu, pool, PoolEvent.CpuHog));
      if (!T.pressure) continue;
      const manager = managerOf(m, pool);
      if (manager < 0 || m.cpuOfCtx(T.workerTask[manager]!) !== cpu) continue;
      if (!needToCreate(m, pool)) {
        out.push(m.choice(WORKER_SLEEPING, cpu, pool, PoolEvent.ManagerReturns));
        continue;
      }
      if (maydaysDue(m, pool).length > 0) out.push(m.choice(WORKER_SLEEPING, cpu, pool, PoolEvent.Mayday));
      if (nextSlot(m, pool) >= 0) out.push(m.choice(WORKER_SLEEPING, cpu, pool, PoolEvent.Created));
    }
  },
  apply(m, cpu, pool, variant) {
    const T = topology(m);
    if (variant === PoolEvent.Kick) {
      kick(m, pool);
    } else if (variant === PoolEvent.CpuHog) {
      const k = hogOn(m, pool, cpu);
      m.w(workOff(m, currentWork(m, k)) + W_HOG, 1);
      kick(m, pool);
    } else if (variant === PoolEvent.Mayday) {
      for (const q of maydaysDue(m, pool)) {
        m.w(wqOff(m, q) + WQ_MAYDAYS, m.s[wqOff(m, q) + WQ_MAYDAYS]! | bit(pool));
        const rescuer = T.workerTask[T.wqRescuer[q]!]!;
        wakeAll(m, channel(Chan.Worker, rescuer));
      }
    } else if (variant === PoolEvent.Created) {
      fillSlot(m, nextSlot(m, pool));
      wakeAll(m, channel(Chan.Work, MANAGE_CHAN + pool));
    } else {
      wakeAll(m, channel(Chan.Work, MANAGE_CHAN + pool));
    }
  },
  label(m, cpu, pool, variant) {
    const T = topology(m);
    if (variant === PoolEvent.CpuHog) {
      const k = hogOn(m, pool, cpu);
      return `wq_worker_tick: ${workerName(m, k)} has run ${funcName(m, currentWork(m, k))}() past wq_cpu_intensive_thresh_us without sleeping: CPU_INTENSIVE, kick_pool wakes ${workerName(m, firstIdle(m, pool))}`;
    }
    if (variant === PoolEvent.Mayday) {
      return `pool_mayday_timeout: ${poolName(m, pool)} still cannot create a kworker: send_mayday wakes the rescuer of ${maydaysDue(m, pool).map((q) => wqName(m, q)).join(', ')}`;
    }
    if (variant === PoolEvent.Created) {
      return `maybe_create_worker: ${workerName(m, managerOf(m, pool))} retries and create_worker() makes ${workerName(m, nextSlot(m, pool))} (memory was freed); it returns`;
    }
    if (variant === PoolEvent.ManagerReturns) {
      return `maybe_create_worker: ${workerName(m, managerOf(m, pool))} finds no more need to create a kworker on ${poolName(m, pool)} and returns`;
    }
    const k = firstIdle(m, pool);
    const sleepers = T.poolWorkers[pool]!.filter((z) => busy(m, z)).map((z) => workerName(m, z));
    return `wq_worker_sleeping: ${sleepers.join(', ') || 'no kworker'} off the CPU with work pending on ${poolName(m, pool)}: kick_pool wakes ${k >= 0 ? workerName(m, k) : 'nobody'}`;
  },
};

/** delayed_work_timer_fn: the dwork's timer expires on its CPU and __queue_work queues the item. */
const DELAYED_WORK_TIMER: ChoiceSource = {
  name: 'delayed_work_timer',
  active: (p) => (p.objects['work']?.length ?? 0) > 0,
  collect(m, cpu, out) {
    const T = topology(m);
    for (let w = 0; w < T.nworks; w++) if (m.s[workOff(m, w) + W_TIMER] === cpu + 1) out.push(m.choice(DELAYED_WORK_TIMER, cpu, w, 0));
  },
  apply(m, cpu, w) {
    const o = workOff(m, w);
    m.w(o + W_TIMER, 0);
    queueWork(m, cpu, -1, m.s[o + W_DCPU]! - 1, m.s[o + W_WQ]! - 1, w);
  },
  label(m, cpu, w) {
    return m.dryRun(() => {
      const o = workOff(m, w);
      m.w(o + W_TIMER, 0);
      const note = queueWork(m, cpu, -1, m.s[o + W_DCPU]! - 1, m.s[o + W_WQ]! - 1, w);
      return `delayed_work_timer_fn(&${workName(m, w)}): the delay expires, __queue_work: ${note ?? m.message}`;
    });
  },
};

// ------------------------------------------------------------ objects

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Attributes of a workqueue declaration (alloc_workqueue / alloc_ordered_workqueue). */
function declareWorkqueue(decl: unknown, fail: (problem: string) => never): Record<string, number> {
  if (!isRecord(decl)) fail("declare a workqueue as { flags?: [...], max_active?: n } (alloc_workqueue), or { flags: ['ORDERED'] } (alloc_ordered_workqueue)");
  const d = decl as WorkqueueDecl;
  const flags = d.flags ?? [];
  if (!Array.isArray(flags)) fail(`flags must be a list of ${Object.keys(WQ_FLAG_BITS).join(', ')}`);
  let mask = 0;
  for (const f of flags) {
    const b = WQ_FLAG_BITS[f as WorkqueueFlag];
    if (b === undefined) fail(`unknown flag ${JSON.stringify(f)} (known: ${Object.keys(WQ_FLAG_BITS).join(', ')})`);
    mask |= b;
  }
  const ordered = (mask & WQ_FLAG_BITS.ORDERED) !== 0;
  const max = d.max_active ?? 0;
  if (!Number.isInteger(max) || max < 0 || max > WQ_MAX_ACTIVE) fail(`max_active must be a whole number from 0 (the default, ${WQ_DFL_ACTIVE}) to ${WQ_MAX_ACTIVE}`);
  if (ordered && max > 1) fail('an ordered workqueue (alloc_ordered_workqueue) has max_active 1');
  return { flags: ordered ? mask | WQ_FLAG_BITS.UNBOUND : mask, maxActive: ordered ? 1 : max === 0 ? WQ_DFL_ACTIVE : max };
}

export const WORKQUEUE_OBJECTS: readonly ObjectKindSpec[] = [
  {
    kind: 'workqueue',
    field: 'workqueues',
    size: WORKQUEUE_SIZE,
    ctype: 'workqueue_struct',
    declKeys: ['flags', 'max_active'],
    builtin: { system_wq: {}, system_long_wq: {}, system_unbound_wq: { flags: ['UNBOUND'] } },
    declare(_name, decl, d) {
      return { init: new Array<number>(WORKQUEUE_SIZE).fill(0), attrs: declareWorkqueue(decl, d.fail) };
    },
  },
  {
    kind: 'work',
    field: 'works',
    size: WORK_SIZE,
    ctype: 'work_struct',
    declKeys: ['func', 'delayed'],
    declare(_name, decl, d) {
      if (!isRecord(decl) || typeof (decl as Partial<WorkDecl>).func !== 'string') {
        return d.fail("declare a work item as { func: 'fn' } (INIT_WORK) or { func: 'fn', delayed: true } (INIT_DELAYED_WORK)");
      }
      const delayed = (decl as Partial<WorkDecl>).delayed ?? false;
      if (typeof delayed !== 'boolean') return d.fail('delayed must be true or false');
      return { init: new Array<number>(WORK_SIZE).fill(0), attrs: { entry: d.functionEntry((decl as unknown as WorkDecl).func), delayed: delayed ? 1 : 0 } };
    },
    activeState(m, w) {
      // debug_work_activate at insert_work, deactivate when it starts: queued or armed is active.
      const o = workOff(m, w);
      if (m.s[o + W_TIMER]) return `(delayed_work timer armed on cpu${m.s[o + W_TIMER]! - 1})`;
      if (m.s[o + W_LIST]) return `(${pendingState(m, w)})`;
      return null;
    },
  },
];

/** Everything about a work item and its workqueue a test or report may read. */
export interface WorkView {
  readonly pending: boolean;
  /** Where the pending instance is: 'worklist', 'scheduled', 'inactive', 'timer', or null. */
  readonly queued: 'worklist' | 'scheduled' | 'inactive' | 'timer' | null;
  /** Its pool: `cpu0` … or `unbound` (pre-cmwq: its thread, `events/0` …); the last one if it is not queued; null if none. */
  readonly pool: string | null;
  /** 1-based position in its list. */
  readonly rank: number;
  readonly canceling: boolean;
  /** The kworkers executing it. */
  readonly runningOn: readonly string[];
}

/** Read work item `name`'s state (for tests and reports). */
export function workView(m: Machine, name: string): WorkView {
  const w = m.p.objects['work']!.findIndex((o) => o.name === name);
  if (w < 0) throw new Error(`no work item '${name}'`);
  const o = workOff(m, w);
  const list = m.s[o + W_LIST]!;
  const pool = m.s[o + W_POOL]! - 1;
  const T = topology(m);
  const runningOn: string[] = [];
  eachBit(m.s[o + W_RUN]!, (k) => runningOn.push(workerName(m, k)));
  return {
    pending: m.s[o + W_PENDING] !== 0,
    queued: m.s[o + W_TIMER] ? 'timer' : list >= LIST_INACTIVE ? 'inactive' : list >= LIST_SCHEDULED ? 'scheduled' : list > 0 ? 'worklist' : null,
    pool: pool < 0 ? null : T.perWq ? m.p.tasks[T.workerTask[T.poolWorkers[pool]![0]!]!]!.name : T.poolCpu[pool]! < 0 ? 'unbound' : `cpu${T.poolCpu[pool]}${pool > m.p.ncpu ? 'H' : ''}`,
    rank: m.s[o + W_RANK]!,
    canceling: m.s[o + W_CANCELER] !== 0,
    runningOn,
  };
}

/** A kworker inside a work function holds its workqueue's and the work's lockdep maps (process_one_work). */
function workerMapsHeld(m: Machine, ctx: number): readonly LockdepMapRef[] {
  if (!m.isTask(ctx) || (m.p.objects['work']?.length ?? 0) === 0) return [];
  const k = topology(m).taskWorker[ctx]!;
  if (k < 0) return [];
  const w = currentWork(m, k);
  return w < 0 ? [] : [{ kind: 'workqueue', id: currentWq(m, k) }, { kind: 'work', id: w }];
}

export const WORKQUEUE: Mechanism = {
  name: 'workqueue',
  ops: WORKQUEUE_OPS,
  // Every work item and workqueue (lists, pools, barriers), this CPU, and every task:
  // kworkers are tasks, and flushers' barriers live in their context blocks.
  defaultFootprint(f) {
    f.write(f.ownCpu());
    f.write(f.anyObject('work'));
    f.write(f.anyObject('workqueue'));
    f.write(f.anyTask());
  },
  choices: [WORKER_SLEEPING, DELAYED_WORK_TIMER],
  objects: WORKQUEUE_OBJECTS,
  // live() is asked before the design's code and objects are compiled: only counts and flags here.
  builtins: [
    { name: 'worker_thread', ops: ['worker_thread'], live: (shape) => shape.objectCount('work') > 0 && !shape.flags.globalBH },
    {
      name: 'rescuer_thread', ops: ['rescuer_thread'],
      live: (shape) => shape.memoryPressure === true && shape.objectCount('work') > 0 && shape.flags.wqModel === 'cmwq',
    },
  ],
  threads: kworkers,
  lockdepMapsHeld: workerMapsHeld,
};
