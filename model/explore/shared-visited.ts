/**
 * The visited set that worker threads share (workers.ts): the same 64-bit
 * fingerprints as visited.ts, in an open-addressing table of growable
 * SharedArrayBuffers, so that a state one thread stored is known to all.
 *
 * Each slot has a status byte besides its two key lanes:
 *  - EMPTY; WRITING while the thread that claimed the slot (by an atomic
 *    compare-and-exchange on the byte) writes the key, readers wait;
 *  - ACTIVE once the key is there: the state is stored and its thread may
 *    still be exploring below it (it is on a DFS stack);
 *  - DONE when that thread has left it (its subtree is explored).
 * The key lanes are plain stores made before the status byte's atomic
 * store, and read after its atomic load, so a reader that sees ACTIVE or
 * DONE sees the key (Atomics are sequentially consistent).
 *
 * ACTIVE is what the partial-order reduction's stack proviso asks in a
 * parallel search (dfs.ts): a reduced state one of whose successors is on
 * any thread's stack is expanded fully. That is at least every state the
 * one-thread proviso expands (a state on this thread's stack is ACTIVE),
 * so every cycle of the reduced graph keeps a fully expanded state
 * whichever thread closes it (Laarman and Wijs, "Partial-order reduction
 * for multi-core LTL model checking", HVC 2014, use the same rule with
 * their cyan colour).
 *
 * Growth: a thread whose insertion makes the table more than half full
 * asks for it (the GROWING word); every other thread pauses at its next
 * operation (or has finished its search), the asker grows both buffers to
 * four times the slots (twice past 2^FOUR_FOLD_LOG) and rehashes, then
 * wakes them. The asker first waits until every thread the last growth
 * paused has resumed, so that a thread slow to wake is never counted as
 * paused while it goes back to the table. No thread is ever inside an
 * operation while the table moves, except has(), which reads without
 * waiting and may then miss a key (see has).
 */

const EMPTY = 0;
const WRITING = 1;
const ACTIVE = 2;
const DONE = 3;

/**
 * Control words. SIZE, which every insertion of every thread changes, has a
 * cache line of its own: in the line of the words every operation reads
 * (GROWING, CAP_LOG) it made each of those reads miss on the other core.
 */
const CAP_LOG = 1;
const GROWING = 2;
const PAUSED = 3;
const FINISHED = 4;
const THREADS = 5;
/** log2 of the largest table (MAX_CAP_LOG unless a test asks for less). */
const MAX_LOG = 6;
const SIZE = 16;
const CONTROL_WORDS = 32;

/** Below 2^FOUR_FOLD_LOG slots (150 MiB of keys and status) the table grows four times over, above twice (see grow). */
const FOUR_FOLD_LOG = 24;

/** Largest table: 2^29 slots (4 GiB of keys, the most a growable SharedArrayBuffer may reserve here, and 512 MiB of status). */
const MAX_CAP_LOG = 29;

/** A growable SharedArrayBuffer (ES2024; Node 20 has it, the TypeScript lib here predates it). */
interface Growable extends SharedArrayBuffer {
  grow(bytes: number): void;
}
const GrowableBuffer = SharedArrayBuffer as unknown as new (bytes: number, opts: { maxByteLength: number }) => Growable;

/** The buffers a thread needs to join the set (structured-cloneable). */
export interface SharedVisitedBuffers {
  readonly keys: SharedArrayBuffer;
  readonly status: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
}

export class SharedVisitedSet {
  /**
   * Views of the table at its size when this thread last looked
   * (CAP_LOG): fixed-length views, re-made when it grows. A view that
   * tracks a growable buffer's length costs a length check on every access
   * (five times slower on random reads, measured on node 20).
   */
  private keys: Int32Array;
  private status: Uint8Array;
  private log: number;
  private readonly control: Int32Array;
  private readonly keyBuffer: Growable;
  private readonly statusBuffer: Growable;

  /** A new set for `threads` threads, with at least `initialCapacity` slots, at most 2^maxLog. */
  static create(threads: number, initialCapacity = 1 << 16, maxLog = MAX_CAP_LOG): SharedVisitedSet {
    let log = 1;
    while (1 << log < initialCapacity) log++;
    if (maxLog < log || maxLog > MAX_CAP_LOG) throw new RangeError(`shared visited set: a largest size of 2^${maxLog} slots is not within 2^${log}..2^${MAX_CAP_LOG}`);
    const keys = new GrowableBuffer((1 << log) * 8, { maxByteLength: (1 << MAX_CAP_LOG) * 8 });
    const status = new GrowableBuffer(1 << log, { maxByteLength: 1 << MAX_CAP_LOG });
    const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
    const c = new Int32Array(control);
    c[CAP_LOG] = log;
    c[THREADS] = threads;
    c[MAX_LOG] = maxLog;
    return new SharedVisitedSet({ keys, status, control });
  }

  constructor(readonly buffers: SharedVisitedBuffers) {
    this.keyBuffer = buffers.keys as Growable;
    this.statusBuffer = buffers.status as Growable;
    this.control = new Int32Array(buffers.control);
    this.log = -1;
    this.keys = new Int32Array(0);
    this.status = new Uint8Array(0);
    this.views();
  }

  /** The views for the table's current size (re-made if it grew since). */
  private views(): void {
    if (this.control[CAP_LOG] !== this.log) this.remake();
  }

  private remake(): void {
    const log = this.control[CAP_LOG]!;
    this.log = log;
    this.keys = new Int32Array(this.keyBuffer, 0, 2 << log);
    this.status = new Uint8Array(this.statusBuffer, 0, 1 << log);
  }

  /** Distinct states stored by every thread. */
  get size(): number {
    return Atomics.load(this.control, SIZE);
  }

  /**
   * The table is at its largest size and more than half full: a search
   * must stop (dfs.ts: bounded-out, naming it) before it fills up, when a
   * probe would find no empty slot.
   */
  get full(): boolean {
    const max = this.control[MAX_LOG]!;
    return Atomics.load(this.control, CAP_LOG) >= max && Atomics.load(this.control, SIZE) * 2 > 2 ** max;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.keyBuffer.byteLength + this.statusBuffer.byteLength;
  }

  /** Insert as ACTIVE; true if the fingerprint was new (this thread stored it). */
  add(lo: number, hi: number): boolean {
    const at = this.probe(lo, hi, true);
    if (at >= 0) return false;
    const size = Atomics.add(this.control, SIZE, 1) + 1;
    if (size * 2 > 1 << this.log) this.grow();
    return true;
  }

  /**
   * Whether the fingerprint is in the set, read without atomics and without
   * pausing for growth: a key once written never changes (but in a growth,
   * which only moves keys), so a key found is stored; a miss may be wrong
   * while a thread writes or the table moves, which costs a re-exploration
   * that add() then stops (its claim is atomic), never a lost state.
   */
  has(lo: number, hi: number): boolean {
    this.views();
    lo |= 0;
    hi |= 0;
    const status = this.status;
    const keys = this.keys;
    const mask = (1 << this.log) - 1;
    let i = slotOf(lo, hi) & mask;
    for (;;) {
      const st = status[i]!;
      if (st === EMPTY || st === WRITING) return false;
      if (keys[2 * i] === lo && keys[2 * i + 1] === hi) return true;
      i = (i + 1) & mask;
    }
  }

  /** Whether the state is stored and still on some thread's stack. */
  active(lo: number, hi: number): boolean {
    const i = this.find(lo, hi);
    return i >= 0 && Atomics.load(this.status, i) === ACTIVE;
  }

  /** The state's subtree is explored: it leaves the stacks. */
  finish(lo: number, hi: number): void {
    const i = this.find(lo, hi);
    if (i >= 0) Atomics.store(this.status, i, DONE);
  }

  /** This thread's search is over: it touches the set no more (growth stops waiting for it). */
  leave(): void {
    Atomics.add(this.control, FINISHED, 1);
    Atomics.notify(this.control, PAUSED);
  }

  private find(lo: number, hi: number): number {
    return this.probe(lo, hi, false);
  }

  /**
   * The slot holding the key, or -1 if it is not there; with `claim`, an
   * empty slot met instead is claimed and the key written there (ACTIVE),
   * and -2 is returned.
   */
  private probe(lo: number, hi: number, claim: boolean): number {
    this.pauseIfGrowing();
    this.views();
    lo |= 0;
    hi |= 0;
    const status = this.status;
    const keys = this.keys;
    const mask = (1 << this.log) - 1;
    let i = slotOf(lo, hi) & mask;
    for (;;) {
      const st = Atomics.load(status, i);
      if (st === EMPTY) {
        if (!claim) return -1;
        if (Atomics.compareExchange(status, i, EMPTY, WRITING) !== EMPTY) continue;
        keys[2 * i] = lo;
        keys[2 * i + 1] = hi;
        Atomics.store(status, i, ACTIVE);
        return -2;
      }
      if (st === WRITING) continue;
      if (keys[2 * i] === lo && keys[2 * i + 1] === hi) return i;
      i = (i + 1) & mask;
    }
  }

  /** Every operation's first check (small, so that it is inlined): wait out a growth. */
  private pauseIfGrowing(): void {
    if (Atomics.load(this.control, GROWING) !== 0) this.pause();
  }

  private pause(): void {
    const c = this.control;
    Atomics.add(c, PAUSED, 1);
    Atomics.notify(c, PAUSED);
    while (Atomics.load(c, GROWING) !== 0) Atomics.wait(c, GROWING, 1, 100);
    Atomics.sub(c, PAUSED, 1);
    Atomics.notify(c, PAUSED);
  }

  /** Double the table (see the file comment); the caller has just inserted and holds no slot. */
  private grow(): void {
    const c = this.control;
    // A thread paused by the last growth that has not yet resumed would be counted as paused for
    // this one while it goes back to the table: wait until they all have (unless another thread
    // starts growing meanwhile, which would wait for this one to pause: then this one leaves it).
    for (;;) {
      const paused = Atomics.load(c, PAUSED);
      if (paused === 0) break;
      if (Atomics.load(c, GROWING) !== 0) return;
      Atomics.wait(c, PAUSED, paused, 10);
    }
    if (Atomics.compareExchange(c, GROWING, 0, 1) !== 0) return;
    // Wait until every other thread is paused or finished.
    for (;;) {
      const others = Atomics.load(c, PAUSED) + Atomics.load(c, FINISHED);
      if (others >= Atomics.load(c, THREADS) - 1) break;
      Atomics.wait(c, PAUSED, Atomics.load(c, PAUSED), 10);
    }
    this.views();
    const log = this.log;
    const max = this.control[MAX_LOG]!;
    if (log < max) {
      // Four times the slots while the table is under 2^FOUR_FOLD_LOG slots, else twice: every
      // growth stops every thread while one rehashes, and a search that outgrows one table
      // usually outgrows the next.
      const to = log < FOUR_FOLD_LOG && log + 2 <= max ? log + 2 : log + 1;
      const cap = 1 << log;
      const grown = 1 << to;
      const oldKeys = this.keys.slice(0, 2 * cap);
      const oldStatus = this.status.slice(0, cap);
      this.keyBuffer.grow(grown * 8);
      this.statusBuffer.grow(grown);
      const keys = new Int32Array(this.keyBuffer, 0, 2 * grown);
      const status = new Uint8Array(this.statusBuffer, 0, grown);
      status.fill(EMPTY, 0, cap);
      const mask = grown - 1;
      for (let j = 0; j < cap; j++) {
        const st = oldStatus[j]!;
        if (st === EMPTY) continue;
        const lo = oldKeys[2 * j]!;
        const hi = oldKeys[2 * j + 1]!;
        let i = slotOf(lo, hi) & mask;
        while (status[i] !== EMPTY) i = (i + 1) & mask;
        keys[2 * i] = lo;
        keys[2 * i + 1] = hi;
        status[i] = st;
      }
      Atomics.store(c, CAP_LOG, to);
    }
    Atomics.store(c, GROWING, 0);
    Atomics.notify(c, GROWING);
  }
}

/** The home slot of a fingerprint (as visited.ts). */
function slotOf(lo: number, hi: number): number {
  return (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
}
