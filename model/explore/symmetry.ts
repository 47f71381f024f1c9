/**
 * Symmetry reduction: identical CPUs (with their pinned tasks and private
 * interrupt lines) are interchangeable, and the search stores one
 * representative per orbit: a state's fingerprint is taken after renaming
 * the CPUs of each orbit into a canonical order (sorted by what each CPU
 * holds).
 *
 * Which CPUs are interchangeable is decided from the program: CPUs a and b
 * are, when swapping them maps the program onto itself: the tasks pinned
 * to a and to b run equal code (the same instructions, jumps relative to
 * their own code), the interrupt lines affine only to a and only to b have
 * equal handlers and budgets, every other task and line is affine to both
 * or neither, the invariants are unchanged by the swap (up to the order of
 * the operands of +, &&, ||, ==), no instruction names a CPU (per_cpu(x, 1),
 * queue_work_on(1, …), smp_processor_id()), cpu0 is not the timekeeping CPU
 * of a design with ticks, and every mechanism object the design uses
 * declares which of its words hold CPU or context ids (ObjectKindSpec.
 * wordRoles). Swaps generate the full symmetric group of each class.
 *
 * Renaming a state: the words of each CPU's block, its interrupt frames,
 * its pinned tasks, its private lines and its per-CPU values move with it;
 * every word that holds a CPU (a task's X_CPU, a line's running CPU, the
 * tick mask), a task (a CPU's current task, a timeout channel), a context
 * (a lock's owner) or a pc inside a pinned task or private handler is
 * renamed. Two states get the same canonical fingerprint only if one is a
 * renaming of the other (up to a fingerprint collision), so no state is
 * merged with one it is not equivalent to.
 *
 * The canonical order: each CPU gets a signature (the fingerprint of its own
 * words, renamed as if it were the first CPU of its class); CPUs are sorted
 * by signature, and where signatures tie, every order of the tied CPUs is
 * tried and the smallest fingerprint kept.
 */
import {
  C_CURTASK, C_DEPTH, CPU_SIZE, FrameKind, H_TICKED, I_RUNNING, IRQ_SIZE, L_OWNER, L_QHOLDER,
  LOCK_SIZE, MAX_CALLS, T_CHANNEL, X_CPU, X_ID, X_KIND, X_PC, X_RET,
} from '../kernel/layout.ts';
import { E_BIN, E_CPU, E_END, E_NOT, E_PER_CPU, BINARY_FNS } from '../kernel/data.ts';
import type { Machine } from '../kernel/machine.ts';
import { INSN_WIDTH, type Program } from '../kernel/program.ts';
import { MECHANISMS, OPS } from '../kernel/registry.ts';
import { Chan } from '../kernel/scheduler.ts';
import type { OperandSpec } from '../kernel/semantics.ts';
import { zHi, zLo } from '../kernel/zobrist.ts';

/** How to rename a word's value. */
const enum Role {
  Plain = 0,
  Cpu = 1,
  CpuPlus1 = 2,
  CpuMask = 3,
  Task = 4,
  CtxPlus1 = 5,
  Pc = 6,
  /** A context's X_ID: a task, an irq line, or a CPU, by the context's kind. */
  ContextId = 7,
  /** A task's wait channel: tag << 16 | id, the id a task for Timeout and Worker channels. */
  Channel = 8,
  /** The header's violation context: a context id (−1 none). */
  Ctx = 9,
}

const ROLE_OF: Readonly<Record<string, Role>> = { plain: Role.Plain, cpu: Role.Cpu, 'cpu+1': Role.CpuPlus1, cpuMask: Role.CpuMask, 'ctx+1': Role.CtxPlus1, task: Role.Task };

/**
 * CPU signatures by (CPU, fingerprint of its own words): open addressing on
 * typed arrays; emptied when it reaches its size (a cache, not a record).
 */
class SignatureCache {
  private static readonly SLOTS = 1 << 16;
  private readonly key = new Int32Array(SignatureCache.SLOTS * 3);
  private readonly val = new Int32Array(SignatureCache.SLOTS * 2);
  /** 0 empty, 1 signature, 2 cross (no fast signature). */
  private readonly tag = new Uint8Array(SignatureCache.SLOTS);
  private size = 0;

  find(c: number, lo: number, hi: number): number {
    const mask = SignatureCache.SLOTS - 1;
    let i = (mix32(lo ^ Math.imul(hi, 0x9e3779b1)) + c) & mask;
    for (;;) {
      if (this.tag[i] === 0) return -1;
      if (this.key[3 * i] === lo && this.key[3 * i + 1] === hi && this.key[3 * i + 2] === c) return i;
      i = (i + 1) & mask;
    }
  }
  put(c: number, lo: number, hi: number, sLo: number, sHi: number, cross: boolean): void {
    if (this.size * 2 >= SignatureCache.SLOTS) {
      this.tag.fill(0);
      this.size = 0;
    }
    const mask = SignatureCache.SLOTS - 1;
    let i = (mix32(lo ^ Math.imul(hi, 0x9e3779b1)) + c) & mask;
    while (this.tag[i] !== 0) i = (i + 1) & mask;
    this.key[3 * i] = lo;
    this.key[3 * i + 1] = hi;
    this.key[3 * i + 2] = c;
    this.val[2 * i] = sLo;
    this.val[2 * i + 1] = sHi;
    this.tag[i] = cross ? 2 : 1;
    this.size++;
  }
  cross(i: number): boolean {
    return this.tag[i] === 2;
  }
  sigLo(i: number): number {
    return this.val[2 * i]!;
  }
  sigHi(i: number): number {
    return this.val[2 * i + 1]!;
  }
}

/** A renamed id that names another orbit CPU's (see Symmetry.canonical's fast path). */
const CROSS = -0x40000000;

/** murmur3's 32-bit finaliser (as in zobrist.ts). */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** Why a program has no symmetry to use, or null. */
export type NoSymmetry = string;

export class Symmetry {
  /** Classes of interchangeable CPUs (each of at least two). */
  readonly orbits: number[][];
  private readonly ncpu: number;
  /** Per CPU in an orbit: its local words (offsets), in an order shared by its class. */
  private readonly local: number[][] = [];
  /** Per CPU: the role of each of its local words (shared by its class). */
  private readonly localRole: Int8Array[] = [];
  /** Words owned by no CPU of an orbit, with a role other than plain: offsets and roles. */
  private readonly globalRoleOff: Int32Array;
  private readonly globalRole: Int32Array;
  /** Per class: its CPUs in canonical order (scratch). */
  private readonly sorted: Int32Array[];
  /** canonical(): scratch, the global role words that name an orbit CPU's ids in the current state. */
  private readonly named: Int32Array;
  /** Per CPU: its class, or −1. */
  private readonly orbitOf: Int32Array;
  /** Per context: the class CPU it belongs to (a pinned task's CPU, a frame's), or −1; and its rank there. */
  private readonly ctxCpu: Int32Array;
  private readonly ctxRank: Int32Array;
  /** Per line: the class CPU it is private to, or −1. */
  private readonly lineCpu: Int32Array;
  /** Every other global word is plain: taken as it is. */
  private readonly globalPlain: Int32Array;
  /** Pinned tasks per CPU, in index order. */
  private readonly pinned: number[][];
  /** Lines affine to exactly one CPU of an orbit, per CPU, in index order. */
  private readonly privateLines: number[][];
  /** Per instruction: the task or line region it belongs to (index into regions), or −1 (shared code). */
  private readonly pcRegion: Int32Array;
  private readonly regions: { start: number; kind: 'task' | 'line'; id: number }[] = [];
  private readonly maps: { cpu: Int32Array; task: Int32Array; line: Int32Array };
  private readonly sig: number[] = [];
  private readonly ntasks: number;
  private readonly maxFrames: number;
  /** The region of each task's and each line's own code (−1 for builtin code). */
  private readonly taskRegion: number[];
  private readonly lineRegion: number[];
  /**
   * The fast path's renaming of each orbit CPU c into its class's first CPU
   * (see canonical): per CPU, task, line and context, its image when c is
   * renamed so, CROSS for an id of another orbit CPU, itself otherwise.
   */
  private readonly selfCpu: Int32Array[] = [];
  private readonly selfTask: Int32Array[] = [];
  private readonly selfLine: Int32Array[] = [];
  private readonly selfCtx: Int32Array[] = [];
  /** Per region, per orbit CPU: the start of its image region when that CPU is renamed (−1: CROSS, −2: itself). */
  private readonly selfRegionStart: Int32Array[] = [];
  /** Per CPU: where its frames start in its local words, and the words per frame. */
  private readonly ctxSize: number;
  private readonly cpuSizeWords = CPU_SIZE;
  /** Per word: the orbit CPU whose own word it is, or −1 (the machine's parts, see Machine.trackParts). */
  private readonly owner: Int32Array;
  /** Signatures already computed, by CPU and the fingerprint of its own words. */
  private readonly cache = new SignatureCache();
  /** Scratch: each orbit CPU's 64-bit signature (lanes). */
  private readonly sigHi: number[] = [];
  private readonly cpuBase: number;

  private constructor(p: Program, m: Machine, orbits: number[][]) {
    this.ncpu = p.ncpu;
    this.orbits = orbits;
    const L = m.L;
    this.pinned = Array.from({ length: p.ncpu }, () => []);
    p.tasks.forEach((t, i) => {
      if ((t.allowedMask & (t.allowedMask - 1)) === 0) this.pinned[31 - Math.clz32(t.allowedMask)]!.push(i);
    });
    this.privateLines = Array.from({ length: p.ncpu }, () => []);
    p.irqs.forEach((l, i) => {
      if ((l.cpuMask & (l.cpuMask - 1)) === 0) this.privateLines[31 - Math.clz32(l.cpuMask)]!.push(i);
    });
    this.pcRegion = new Int32Array(p.code.length / INSN_WIDTH).fill(-1);
    const mark = (entry: number, kind: 'task' | 'line', id: number) => {
      if (entry < p.designStart) return;
      const r = this.regions.length;
      this.regions.push({ start: entry, kind, id });
      for (const k of regionOf(p, entry)) this.pcRegion[k] = r;
    };
    p.tasks.forEach((t, i) => mark(t.entry, 'task', i));
    p.irqs.forEach((l, i) => mark(l.entry, 'line', i));
    this.taskRegion = p.tasks.map((_, i) => this.regions.findIndex((r) => r.kind === 'task' && r.id === i));
    this.lineRegion = p.irqs.map((_, i) => this.regions.findIndex((r) => r.kind === 'line' && r.id === i));
    this.ntasks = m.L.ntasks;
    this.maxFrames = m.L.maxFrames;

    const inOrbit = new Int32Array(p.ncpu).fill(-1);
    orbits.forEach((o, k) => o.forEach((c) => { inOrbit[c] = k; }));
    const owner = new Int32Array(L.size).fill(-1);
    this.owner = owner;
    const role = new Int32Array(L.size).fill(Role.Plain);
    // Roles of every word. (The violation words stay plain: a violating state ends the search.)
    role[H_TICKED] = Role.CpuMask;
    for (let l = 0; l < p.irqs.length; l++) role[L.irqBase + l * IRQ_SIZE + I_RUNNING] = Role.CpuPlus1;
    for (let c = 0; c < p.ncpu; c++) role[L.cpuBase + c * CPU_SIZE + C_CURTASK] = Role.Task;
    for (let ctx = 0; ctx < L.nctx; ctx++) {
      const o = L.ctxBase + ctx * L.ctxSize;
      role[o + X_ID] = Role.ContextId;
      role[o + X_PC] = Role.Pc;
      for (let k = 0; k < MAX_CALLS; k++) role[o + X_RET + k] = Role.Pc;
      role[o + X_CPU] = ctx < L.ntasks ? Role.Cpu : Role.Plain;
      if (ctx < L.ntasks) role[o + T_CHANNEL] = Role.Channel;
    }
    for (let l = 0; l < p.locks.length; l++) {
      role[L.lockBase + l * LOCK_SIZE + L_OWNER] = Role.CtxPlus1;
      role[L.lockBase + l * LOCK_SIZE + L_QHOLDER] = Role.CtxPlus1;
    }
    for (const [kind, list] of Object.entries(p.objects)) {
      const spec = MECHANISMS.flatMap((mech) => mech.objects ?? []).find((o) => o.kind === kind)!;
      list.forEach((_, id) => {
        const base = L.objBase[kind]! + id * spec.size;
        (spec.wordRoles ?? []).forEach((r, k) => { role[base + k] = ROLE_OF[r]!; });
      });
    }
    // Which CPU owns each word, and each CPU's local words in class order.
    for (let c = 0; c < p.ncpu; c++) {
      const words: number[] = [];
      if (inOrbit[c]! >= 0) {
        for (let k = 0; k < CPU_SIZE; k++) words.push(L.cpuBase + c * CPU_SIZE + k);
        for (let d = 0; d < L.maxFrames; d++) {
          const o = L.ctxBase + (L.ntasks + c * L.maxFrames + d) * L.ctxSize;
          for (let k = 0; k < L.ctxSize; k++) words.push(o + k);
        }
        for (const t of this.pinned[c]!) for (let k = 0; k < L.ctxSize; k++) words.push(L.ctxBase + t * L.ctxSize + k);
        for (const l of this.privateLines[c]!) for (let k = 0; k < IRQ_SIZE; k++) words.push(L.irqBase + l * IRQ_SIZE + k);
        for (let v = 0; v < p.percpu.length; v++) words.push(L.percpuBase + v * p.ncpu + c);
        for (const w of words) owner[w] = c;
      }
      this.local.push(words);
      this.localRole.push(Int8Array.from(words.map((w) => role[w]!)));
    }
    const plain: number[] = [];
    const roleWords: number[] = [];
    for (let w = 0; w < L.size; w++) {
      if (owner[w]! >= 0) continue;
      if (role[w] === Role.Plain) plain.push(w);
      else roleWords.push(w);
    }
    this.globalPlain = Int32Array.from(plain);
    this.globalRoleOff = Int32Array.from(roleWords);
    this.globalRole = Int32Array.from(roleWords.map((w) => role[w]!));
    this.sorted = orbits.map((o) => new Int32Array(o.length));
    this.named = new Int32Array(roleWords.length);
    this.orbitOf = inOrbit;
    this.ctxCpu = new Int32Array(L.nctx).fill(-1);
    this.ctxRank = new Int32Array(L.nctx);
    for (let c = 0; c < p.ncpu; c++) {
      if (inOrbit[c]! < 0) continue;
      this.pinned[c]!.forEach((t, k) => { this.ctxCpu[t] = c; this.ctxRank[t] = k; });
      for (let d = 0; d < L.maxFrames; d++) {
        const ctx = L.ntasks + c * L.maxFrames + d;
        this.ctxCpu[ctx] = c;
        this.ctxRank[ctx] = 0x100 + d;
      }
    }
    this.lineCpu = new Int32Array(p.irqs.length).fill(-1);
    for (let c = 0; c < p.ncpu; c++) if (inOrbit[c]! >= 0) for (const l of this.privateLines[c]!) this.lineCpu[l] = c;
    this.maps = { cpu: new Int32Array(p.ncpu), task: new Int32Array(p.tasks.length), line: new Int32Array(p.irqs.length) };
    this.ctxSize = L.ctxSize;
    this.cpuBase = L.cpuBase;
    // The fast path's renamings: CPU c into its class's first CPU, its pinned tasks and private lines with it.
    for (let c = 0; c < p.ncpu; c++) {
      const cpuM = new Int32Array(p.ncpu);
      const taskM = new Int32Array(p.tasks.length);
      const lineM = new Int32Array(p.irqs.length);
      const ctxM = new Int32Array(L.nctx);
      const regionM = new Int32Array(this.regions.length).fill(-2);
      this.selfCpu.push(cpuM);
      this.selfTask.push(taskM);
      this.selfLine.push(lineM);
      this.selfCtx.push(ctxM);
      this.selfRegionStart.push(regionM);
      const k = inOrbit[c]!;
      if (k < 0) continue;
      const to = orbits[k]![0]!;
      for (let x = 0; x < p.ncpu; x++) cpuM[x] = x === c ? to : inOrbit[x]! >= 0 ? CROSS : x;
      for (let t = 0; t < p.tasks.length; t++) {
        const owner = this.ctxCpu[t]!;
        taskM[t] = owner < 0 ? t : owner === c ? this.pinned[to]![this.ctxRank[t]!]! : CROSS;
      }
      for (let l = 0; l < p.irqs.length; l++) {
        const owner = this.lineCpu[l]!;
        lineM[l] = owner < 0 ? l : owner === c ? this.privateLines[to]![this.privateLines[c]!.indexOf(l)]! : CROSS;
      }
      for (let ctx = 0; ctx < L.nctx; ctx++) {
        if (ctx < L.ntasks) ctxM[ctx] = ctx < p.tasks.length ? taskM[ctx]! : ctx;
        else {
          const f = ctx - L.ntasks;
          const owner = Math.floor(f / L.maxFrames);
          const image = cpuM[owner]!;
          ctxM[ctx] = image === CROSS ? CROSS : L.ntasks + image * L.maxFrames + (f % L.maxFrames);
        }
      }
      this.regions.forEach((region, r) => {
        const owner = region.kind === 'task' ? this.ctxCpu[region.id]! : this.lineCpu[region.id]!;
        if (owner < 0) return;
        if (owner !== c) {
          regionM[r] = -1;
          return;
        }
        const image = region.kind === 'task' ? this.taskRegion[taskM[region.id]!]! : this.lineRegion[lineM[region.id]!]!;
        regionM[r] = this.regions[image]!.start;
      });
    }
  }

  /**
   * The program's symmetry, or why it has none (a reason for the verdict's
   * stats). Only CPUs in classes of two or more are ever renamed.
   */
  static of(p: Program, m: Machine): Symmetry | NoSymmetry {
    const why = asymmetry(p);
    if (why !== null) return why;
    const n = p.ncpu;
    const parent = Array.from({ length: n }, (_, i) => i);
    const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        if (find(a) === find(b)) continue;
        if (p.ticks > 0 && (a === 0 || b === 0)) continue; // cpu0 keeps jiffies
        if (swappable(p, a, b)) parent[find(b)] = find(a);
      }
    }
    const classes = new Map<number, number[]>();
    for (let c = 0; c < n; c++) classes.set(find(c), [...(classes.get(find(c)) ?? []), c]);
    const orbits = [...classes.values()].filter((o) => o.length >= 2);
    if (orbits.length === 0) return 'no two CPUs are interchangeable';
    return new Symmetry(p, m, orbits);
  }

  /**
   * The canonical key of the machine's current state, into out[0], out[1].
   *
   * Fast path. Each orbit CPU's own words (its block, its live interrupt
   * frames, its pinned tasks, private lines and per-CPU values) are hashed
   * into a 64-bit signature, renamed as if it were its class's first CPU,
   * and the global words that name it (a lock's owner among its contexts)
   * are folded in. When no CPU's own words name another orbit CPU or one of
   * its tasks, lines, frames or pcs (the common case: a CPU's words name
   * itself), the signature is a function of the CPU's part of the state
   * alone, whichever place it is renamed into. The CPUs of each class are
   * sorted by signature; the key hashes (a) the global words, renamed by
   * that order, and (b) per place of each class, the signature of the CPU
   * put there. So the key is a hash of one renaming of the state, the same
   * for all states of an orbit, and two states get the same key only if one
   * is a renaming of the other (up to a 64-bit hash collision). Frames above
   * a CPU's depth are skipped: they are all zero (Machine.popFrame clears
   * them) and no step reads them before pushFrame clears them again.
   *
   * When some CPU's words name another orbit CPU's ids, the exact path
   * below renames every word (a different hash family, used by every state
   * of that orbit alike: the property is invariant under renaming).
   */
  canonical(m: Machine, out: Int32Array): void {
    const s = m.s;
    const sig = this.sig;
    const sigHi = this.sigHi;
    if (m.partOf !== this.owner) m.trackParts(this.owner, this.ncpu);
    const partLo = m.partLo;
    const partHi = m.partHi;
    const cache = this.cache;
    // The global words' own fingerprint: the whole state's, less the CPUs' own words (and, below, the role words).
    let gLo = m.hLo;
    let gHi = m.hHi;
    for (let k = 0; k < this.orbits.length; k++) {
      const orbit = this.orbits[k]!;
      for (let j = 0; j < orbit.length; j++) {
        const c = orbit[j]!;
        const pLo = partLo[c]!;
        const pHi = partHi[c]!;
        gLo ^= pLo;
        gHi ^= pHi;
        // A CPU's signature is a function of its own words: computed once per content (by its
        // 64-bit fingerprint, whose collisions are as unlikely as the visited set's, see visited.ts).
        const at = cache.find(c, pLo, pHi);
        if (at >= 0) {
          if (cache.cross(at)) {
            this.exact(m, out);
            return;
          }
          sig[c] = cache.sigLo(at);
          sigHi[c] = cache.sigHi(at);
          continue;
        }
        if (!this.signature(s, k, c)) {
          cache.put(c, pLo, pHi, 0, 0, true);
          this.exact(m, out);
          return;
        }
        cache.put(c, pLo, pHi, sig[c]!, sigHi[c]!, false);
      }
    }
    // Global words that name a CPU, or one of its tasks, frames or private code: part of its signature.
    const roleOff = this.globalRoleOff;
    const roleOf = this.globalRole;
    /** The global role words that name something of an orbit CPU's (indexes into roleOff). */
    const named = this.named;
    let nNamed = 0;
    for (let i = 0; i < roleOff.length; i++) {
      const off = roleOff[i]!;
      const v = s[off]!;
      let c = -1;
      let tag = 1;
      switch (roleOf[i]) {
        case Role.CpuMask:
          for (let x = 0; x < this.ncpu; x++) {
            if (v & (1 << x) && this.orbitOf[x]! >= 0) {
              sig[x] = sig[x]! ^ zLo(off, 1);
              sigHi[x] = sigHi[x]! ^ zHi(off, 1);
              if (named[nNamed - 1] !== i) named[nNamed++] = i;
            }
          }
          break;
        case Role.ContextId: {
          // Not in a signature (a context's kind and id move with its CPU's words), but renamed below.
          const kind = s[off - X_ID + X_KIND]!;
          const n = kind === FrameKind.Task ? this.ctxCpu[v]! : kind === FrameKind.Hardirq ? this.lineCpu[v]!
            : kind === FrameKind.Softirq || kind === FrameKind.Ksoftirqd ? v : -1;
          if (n >= 0 && this.orbitOf[n]! >= 0) named[nNamed++] = i;
          break;
        }
        case Role.Cpu:
          if (v >= 0 && v < this.ncpu && this.orbitOf[v]! >= 0) c = v;
          break;
        case Role.CpuPlus1:
          if (v > 0 && this.orbitOf[v - 1]! >= 0) c = v - 1;
          break;
        case Role.CtxPlus1:
        case Role.Ctx: {
          const ctx = roleOf[i] === Role.Ctx ? v : v - 1;
          if (ctx < 0) break;
          c = this.ctxCpu[ctx]!;
          tag = 0x10000 + this.ctxRank[ctx]!;
          break;
        }
        case Role.Task:
          if (v >= 0) {
            c = this.ctxCpu[v]!;
            tag = 0x20000 + this.ctxRank[v]!;
          }
          break;
        case Role.Pc: {
          const r = v >= 0 ? this.pcRegion[v / INSN_WIDTH]! : -1;
          if (r < 0) break;
          const region = this.regions[r]!;
          c = region.kind === 'task' ? this.ctxCpu[region.id]! : this.lineCpu[region.id]!;
          tag = 0x30000 + v - region.start;
          break;
        }
        case Role.Channel: {
          const tg = v >>> 16;
          const t = v & 0xffff;
          if (tg === Chan.Timeout || tg === Chan.Worker) {
            c = this.ctxCpu[t]!;
            tag = 0x40000 + this.ctxRank[t]!;
          }
          break;
        }
        default:
          break;
      }
      if (c >= 0 && this.orbitOf[c]! >= 0) {
        sig[c] = sig[c]! ^ zLo(off, tag);
        sigHi[c] = sigHi[c]! ^ zHi(off, tag);
        named[nNamed++] = i;
      }
    }
    // Sort each class by signature (both lanes, unsigned; insertion sort: classes are small).
    let lo = 0;
    let hi = 0;
    // Whether every CPU stays in its place: then no word is renamed (the common case).
    let moved = false;
    for (let k = 0; k < this.orbits.length; k++) {
      const sorted = this.sorted[k]!;
      const orbit = this.orbits[k]!;
      for (let j = 0; j < orbit.length; j++) sorted[j] = orbit[j]!;
      for (let j = 1; j < sorted.length; j++) {
        const c = sorted[j]!;
        const cLo = sig[c]! >>> 0;
        const cHi = sigHi[c]! >>> 0;
        let x = j - 1;
        while (x >= 0) {
          const y = sorted[x]!;
          const yLo = sig[y]! >>> 0;
          if (yLo < cLo || (yLo === cLo && sigHi[y]! >>> 0 <= cHi)) break;
          sorted[x + 1] = y;
          x--;
        }
        sorted[x + 1] = c;
      }
      for (let r = 0; r < sorted.length; r++) {
        const c = sorted[r]!;
        if (c !== orbit[r]) moved = true;
        // Place r of class k holds signature sig[c]: mixed with the place, so places differ.
        const salt = Math.imul((k << 8) + r + 1, 0x9e3779b1);
        const a = sig[c]!;
        const b = sigHi[c]!;
        lo ^= mix32(a ^ salt ^ mix32(b + 0x632be5ab));
        hi ^= mix32(b ^ Math.imul(salt, 0x85ebca77) ^ mix32(a ^ 0x27d4eb2f));
      }
    }
    if (moved) {
      this.identity();
      for (let k = 0; k < this.orbits.length; k++) {
        const sorted = this.sorted[k]!;
        const orbit = this.orbits[k]!;
        for (let r = 0; r < sorted.length; r++) this.renameOwned(sorted[r]!, orbit[r]!);
      }
    }
    // The global words: plain ones as they are, the others renamed by that order (only a word
    // that names an orbit CPU, or one of its tasks, frames, lines or pcs, can change).
    for (let j = 0; moved && j < nNamed; j++) {
      const i = named[j]!;
      const off = roleOff[i]!;
      const v0 = s[off]!;
      const v = this.rename(roleOf[i]!, v0, s, off);
      if (v !== v0) {
        gLo ^= zLo(off, v0) ^ zLo(off, v);
        gHi ^= zHi(off, v0) ^ zHi(off, v);
      }
    }
    out[0] = lo ^ gLo;
    out[1] = hi ^ gHi;
  }

  /**
   * CPU `c`'s signature (class `k`) into sig/sigHi: its own words, frames
   * above its depth skipped, renamed as if it were its class's first CPU;
   * false if one of them names another orbit CPU's ids.
   */
  private signature(s: Int32Array, k: number, c: number): boolean {
    const orbit = this.orbits[k]!;
    const ctxSize = this.ctxSize;
    const frames0 = this.cpuSizeWords;
    const words = this.local[c]!;
    const target = this.local[orbit[0]!]!;
    const roles = this.localRole[c]!;
    const depth = s[this.cpuBase + c * CPU_SIZE + C_DEPTH]!;
    const framesEnd = frames0 + this.maxFrames * ctxSize;
    const liveEnd = frames0 + depth * ctxSize;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < words.length; i++) {
      if (i === liveEnd && i < framesEnd) i = framesEnd;
      if (i >= words.length) break;
      const v0 = s[words[i]!]!;
      const role = roles[i]!;
      if (role === Role.Plain) {
        if (v0 === 0) continue;
        lo ^= zLo(target[i]!, v0);
        hi ^= zHi(target[i]!, v0);
        continue;
      }
      const v = this.selfRename(role, v0, s, words[i]!, c);
      if (v === CROSS) return false;
      if (v !== 0) {
        lo ^= zLo(target[i]!, v);
        hi ^= zHi(target[i]!, v);
      }
    }
    this.sig[c] = lo;
    this.sigHi[c] = hi;
    return true;
  }

  /**
   * A word of orbit CPU `c`'s own, renamed as if `c` were its class's first
   * CPU; CROSS if it names another orbit CPU's ids.
   */
  private selfRename(role: Role, v: number, s: Int32Array, off: number, c: number): number {
    switch (role) {
      case Role.Plain: return v;
      case Role.Cpu: return v >= 0 && v < this.ncpu ? this.selfCpu[c]![v]! : v;
      case Role.CpuPlus1: {
        if (v <= 0) return v;
        const x = this.selfCpu[c]![v - 1]!;
        return x === CROSS ? CROSS : x + 1;
      }
      case Role.CpuMask: {
        let out = 0;
        const map = this.selfCpu[c]!;
        for (let x = 0; x < this.ncpu; x++) {
          if ((v & (1 << x)) === 0) continue;
          if (map[x] === CROSS) return CROSS;
          out |= 1 << map[x]!;
        }
        return out;
      }
      case Role.Task: return v >= 0 && v < this.selfTask[c]!.length ? this.selfTask[c]![v]! : v;
      case Role.CtxPlus1: {
        if (v <= 0) return v;
        const x = this.selfCtx[c]![v - 1]!;
        return x === CROSS ? CROSS : x + 1;
      }
      case Role.Ctx: return v >= 0 ? this.selfCtx[c]![v]! : v;
      case Role.Pc: {
        const r = v >= 0 ? this.pcRegion[v / INSN_WIDTH]! : -1;
        if (r < 0) return v;
        const image = this.selfRegionStart[c]![r]!;
        if (image === -2) return v;
        if (image === -1) return CROSS;
        return v - this.regions[r]!.start + image;
      }
      case Role.ContextId: {
        const kind = s[off - X_ID + X_KIND]!;
        if (kind === FrameKind.Task) return this.selfTask[c]![v]!;
        if (kind === FrameKind.Hardirq) return this.selfLine[c]![v]!;
        if (kind === FrameKind.Softirq || kind === FrameKind.Ksoftirqd) return this.selfCpu[c]![v]!;
        return v;
      }
      case Role.Channel: {
        const tag = v >>> 16;
        if (tag === Chan.Timeout || tag === Chan.Worker) {
          const t = this.selfTask[c]![v & 0xffff]!;
          return t === CROSS ? CROSS : (tag << 16) | t;
        }
        return v;
      }
    }
  }

  /** The exact canonical fingerprint (every word renamed), into out[0], out[1]. */
  private exact(m: Machine, out: Int32Array): void {
    const s = m.s;
    const sig = this.sig;
    // Signatures: each CPU's words, renamed as if it were the first CPU of its class.
    for (let k = 0; k < this.orbits.length; k++) {
      const orbit = this.orbits[k]!;
      for (let j = 0; j < orbit.length; j++) {
        const c = orbit[j]!;
        this.identity();
        this.renameOwned(c, orbit[0]!);
        sig[c] = this.localHash(s, c, orbit[0]!);
      }
    }
    // Global words that name a CPU, or one of its tasks, frames or private code: part of its signature,
    // so that CPUs with equal signatures are interchangeable in this very state (any order of them is canonical).
    const roleOff = this.globalRoleOff;
    const roleOf = this.globalRole;
    for (let i = 0; i < roleOff.length; i++) {
      const off = roleOff[i]!;
      const v = s[off]!;
      switch (roleOf[i]) {
        case Role.CpuMask:
          for (let c = 0; c < this.ncpu; c++) if (v & (1 << c) && this.orbitOf[c]! >= 0) sig[c] = sig[c]! ^ zLo(off, 1);
          break;
        case Role.Cpu:
          if (v >= 0 && v < this.ncpu && this.orbitOf[v]! >= 0) sig[v] = sig[v]! ^ zLo(off, 1);
          break;
        case Role.CpuPlus1:
          if (v > 0 && this.orbitOf[v - 1]! >= 0) sig[v - 1] = sig[v - 1]! ^ zLo(off, 1);
          break;
        case Role.CtxPlus1:
        case Role.Ctx: {
          const ctx = roleOf[i] === Role.Ctx ? v : v - 1;
          if (ctx < 0) break;
          const c = this.ctxCpu[ctx]!;
          if (c >= 0) sig[c] = sig[c]! ^ zLo(off, 0x10000 + this.ctxRank[ctx]!);
          break;
        }
        case Role.Task:
          if (v >= 0 && this.ctxCpu[v]! >= 0) sig[this.ctxCpu[v]!] = sig[this.ctxCpu[v]!]! ^ zLo(off, 0x20000 + this.ctxRank[v]!);
          break;
        case Role.Pc: {
          const r = v >= 0 ? this.pcRegion[v / INSN_WIDTH]! : -1;
          if (r < 0) break;
          const region = this.regions[r]!;
          const c = region.kind === 'task' ? this.ctxCpu[region.id]! : this.lineCpu[region.id]!;
          if (c >= 0) sig[c] = sig[c]! ^ zLo(off, 0x30000 + v - region.start);
          break;
        }
        case Role.Channel: {
          const tag = v >>> 16;
          const t = v & 0xffff;
          if ((tag === Chan.Timeout || tag === Chan.Worker) && this.ctxCpu[t]! >= 0) sig[this.ctxCpu[t]!] = sig[this.ctxCpu[t]!]! ^ zLo(off, 0x40000 + this.ctxRank[t]!);
          break;
        }
        default:
          break;
      }
    }
    // What does not move: the global words that hold no id.
    let gLo = 0;
    let gHi = 0;
    const gp = this.globalPlain;
    for (let i = 0; i < gp.length; i++) {
      const w = gp[i]!;
      const v = s[w]!;
      if (v !== 0) {
        gLo ^= zLo(w, v);
        gHi ^= zHi(w, v);
      }
    }
    // Sort each class by signature (insertion sort: classes are small); ties are tried in every order.
    for (let k = 0; k < this.orbits.length; k++) {
      const sorted = this.sorted[k]!;
      const orbit = this.orbits[k]!;
      for (let j = 0; j < orbit.length; j++) sorted[j] = orbit[j]!;
      for (let j = 1; j < sorted.length; j++) {
        const c = sorted[j]!;
        let x = j - 1;
        while (x >= 0 && sig[sorted[x]!]! > sig[c]!) {
          sorted[x + 1] = sorted[x]!;
          x--;
        }
        sorted[x + 1] = c;
      }
    }
    // Equal signatures: interchangeable here, so their order does not matter. (Were a signature to
    // miss something, the result would still be a renaming of this state: sound, only less reduced.)
    {
      this.identity();
      for (let k = 0; k < this.orbits.length; k++) {
        const orbit = this.orbits[k]!;
        const sorted = this.sorted[k]!;
        for (let r = 0; r < sorted.length; r++) this.renameOwned(sorted[r]!, orbit[r]!);
      }
      this.renamedHash(s, gLo, gHi, out);
      return;
    }
  }

  /** The fingerprint of the state renamed by the current maps, given the plain global part. */
  private renamedHash(s: Int32Array, gLo: number, gHi: number, out: Int32Array): void {
    let lo = gLo;
    let hi = gHi;
    const roleOff = this.globalRoleOff;
    const roleOf = this.globalRole;
    for (let i = 0; i < roleOff.length; i++) {
      const off = roleOff[i]!;
      const v = this.rename(roleOf[i]!, s[off]!, s, off);
      if (v !== 0) {
        lo ^= zLo(off, v);
        hi ^= zHi(off, v);
      }
    }
    const cpuMap = this.maps.cpu;
    for (let k = 0; k < this.orbits.length; k++) {
      const orbit = this.orbits[k]!;
      for (let j = 0; j < orbit.length; j++) {
        const c = orbit[j]!;
        const words = this.local[c]!;
        const targetWords = this.local[cpuMap[c]!]!;
        const roles = this.localRole[c]!;
        for (let i = 0; i < words.length; i++) {
          const v0 = s[words[i]!]!;
          const role = roles[i]!;
          // A zero may name task 0 or cpu0, which renaming can turn into another id.
          if (role === Role.Plain) {
            if (v0 === 0) continue;
            lo ^= zLo(targetWords[i]!, v0);
            hi ^= zHi(targetWords[i]!, v0);
            continue;
          }
          const v = this.rename(role, v0, s, words[i]!);
          if (v !== 0) {
            lo ^= zLo(targetWords[i]!, v);
            hi ^= zHi(targetWords[i]!, v);
          }
        }
      }
    }
    out[0] = lo;
    out[1] = hi;
  }

  private identity(): void {
    const { cpu, task, line } = this.maps;
    for (let i = 0; i < cpu.length; i++) cpu[i] = i;
    for (let i = 0; i < task.length; i++) task[i] = i;
    for (let i = 0; i < line.length; i++) line[i] = i;
  }

  /** CPU `c` is renamed `to`: its pinned tasks and private lines follow, in order. */
  private renameOwned(c: number, to: number): void {
    this.maps.cpu[c] = to;
    const from = this.pinned[c]!;
    const into = this.pinned[to]!;
    for (let k = 0; k < from.length; k++) this.maps.task[from[k]!] = into[k]!;
    const lf = this.privateLines[c]!;
    const lt = this.privateLines[to]!;
    for (let k = 0; k < lf.length; k++) this.maps.line[lf[k]!] = lt[k]!;
  }

  /** The fingerprint of CPU `c`'s own words, renamed into CPU `to`'s place. */
  private localHash(s: Int32Array, c: number, to: number): number {
    let h = 0;
    const words = this.local[c]!;
    const target = this.local[to]!;
    const roles = this.localRole[c]!;
    for (let i = 0; i < words.length; i++) {
      const v0 = s[words[i]!]!;
      if (v0 === 0 && roles[i] === Role.Plain) continue;
      const v = roles[i] === Role.Plain ? v0 : this.rename(roles[i] as Role, v0, s, words[i]!);
      if (v !== 0) h ^= zLo(target[i]!, v);
    }
    return h;
  }

  private ctxRename(ctx: number): number {
    if (ctx < this.ntasks) return this.maps.task[ctx]!;
    const f = ctx - this.ntasks;
    const c = Math.floor(f / this.maxFrames);
    return this.ntasks + this.maps.cpu[c]! * this.maxFrames + (f % this.maxFrames);
  }

  /** A word's value, renamed. `off` is where it is (for roles that depend on its neighbours). */
  private rename(role: Role, v: number, s: Int32Array, off: number): number {
    const { cpu, task, line } = this.maps;
    switch (role) {
      case Role.Plain: return v;
      case Role.Cpu: return v >= 0 && v < this.ncpu ? cpu[v]! : v;
      case Role.CpuPlus1: return v > 0 ? cpu[v - 1]! + 1 : v;
      case Role.CpuMask: {
        let out = 0;
        for (let c = 0; c < this.ncpu; c++) if (v & (1 << c)) out |= 1 << cpu[c]!;
        return out;
      }
      case Role.Task: return v >= 0 && v < task.length ? task[v]! : v;
      case Role.CtxPlus1: return v > 0 ? this.ctxRename(v - 1) + 1 : v;
      case Role.Ctx: return v >= 0 ? this.ctxRename(v) : v;
      case Role.Pc: {
        const r = v >= 0 ? this.pcRegion[v / INSN_WIDTH]! : -1;
        if (r < 0) return v;
        const region = this.regions[r]!;
        const image = region.kind === 'task' ? this.taskRegion[task[region.id]!]! : this.lineRegion[line[region.id]!]!;
        return v - region.start + this.regions[image]!.start;
      }
      case Role.ContextId: {
        // X_ID sits at the same offset from X_KIND in every context.
        const kind = s[off - X_ID + X_KIND]!;
        if (kind === FrameKind.Task) return task[v]!;
        if (kind === FrameKind.Hardirq) return line[v]!;
        if (kind === FrameKind.Softirq || kind === FrameKind.Ksoftirqd) return cpu[v]!;
        return v;
      }
      case Role.Channel: {
        const tag = v >>> 16;
        if (tag === Chan.Timeout || tag === Chan.Worker) return (tag << 16) | task[v & 0xffff]!;
        return v;
      }
    }
  }
}

/** The instructions of the region starting at `entry` (its own code, up to its `ret`s), as instruction indexes. */
function regionOf(p: Program, entry: number): number[] {
  const out = new Set<number>();
  const todo = [entry];
  const JMP = OPS.findIndex((o) => o.name === 'jmp');
  const BRZ = OPS.findIndex((o) => o.name === 'brz');
  const WHILE = OPS.findIndex((o) => o.name === 'while');
  const RET = OPS.findIndex((o) => o.name === 'ret');
  while (todo.length > 0) {
    const pc = todo.pop()!;
    if (out.has(pc / INSN_WIDTH)) continue;
    out.add(pc / INSN_WIDTH);
    const op = p.code[pc]!;
    if (op === RET) continue;
    if (op === JMP) todo.push(p.code[pc + 1]!);
    else if (op === BRZ || op === WHILE) todo.push(pc + INSN_WIDTH, p.code[pc + 2]!);
    else todo.push(pc + INSN_WIDTH);
  }
  return [...out].sort((a, b) => a - b);
}

/** Why no renaming of CPUs can be a symmetry of `p`, or null if some may be. */
function asymmetry(p: Program): NoSymmetry | null {
  if (p.ncpu < 2) return 'one CPU';
  // Tasks born later, and lines whose liveness code changes, are tied to other tasks and lines
  // by ids the renaming does not follow (start order, irq threads, wait channels of lines and threads).
  if (p.tasks.some((t) => t.unborn || (t.after ?? -1) >= 0)) return 'a task starts by kthread_run or after another task';
  if (p.irqs.some((l) => l.vector !== undefined || l.threadEntry >= 0 || !l.requested || l.noAutoEn || l.oneshot)) {
    return 'an interrupt line is threaded, requested by code or a kernel vector';
  }
  for (let pc = p.designStart; pc < p.code.length; pc += INSN_WIDTH) {
    const op = OPS[p.code[pc]!]!;
    for (const spec of op.operands ?? []) {
      if (spec.kind === 'int' && spec.field === 'cpu') return `${p.text[pc / INSN_WIDTH]} names a CPU (${p.where[pc / INSN_WIDTH]})`;
      if (spec.kind === 'task' || spec.kind === 'irq') return `${p.text[pc / INSN_WIDTH]} names a ${spec.kind === 'task' ? 'task' : 'line'} (${p.where[pc / INSN_WIDTH]})`;
    }
    for (const off of exprOperands(p, pc)) {
      if (exprNamesCpu(p, off)) return `${p.text[pc / INSN_WIDTH]} reads a CPU number or a given CPU's per-CPU value (${p.where[pc / INSN_WIDTH]})`;
    }
  }
  // Mechanism objects the design uses must say which words hold ids.
  for (const mech of MECHANISMS) {
    for (const spec of mech.objects ?? []) {
      if (spec.wordRoles) continue;
      const declared = Object.keys((p.design as unknown as Record<string, Record<string, unknown> | undefined>)[spec.field] ?? {}).length > 0;
      const used = (mech.ops ?? []).some((op) => usesOp(p, op.name)) || p.builtinRegions.some((r) => r.live && (mech.builtins ?? []).some((b) => b.name === r.name));
      // A kind with no object in the state has no words to rename, whatever its builtins do.
      const present = (p.objects[spec.kind]?.length ?? 0) > 0;
      if ((declared || used) && present) return `the ${spec.kind} objects do not declare which of their words hold CPU or context ids`;
    }
  }
  return null;
}

function usesOp(p: Program, name: string): boolean {
  const opcode = OPS.findIndex((o) => o.name === name);
  for (let pc = p.designStart; pc < p.code.length; pc += INSN_WIDTH) if (p.code[pc] === opcode) return true;
  return false;
}

/** Offsets of the expressions an instruction's operands point to (brz/while conditions included). */
function exprOperands(p: Program, pc: number): number[] {
  const op = OPS[p.code[pc]!]!;
  if (op.name === 'brz' || op.name === 'while') return [p.code[pc + 1]!];
  const out: number[] = [];
  let slot = 0;
  for (const spec of op.operands ?? []) {
    // A packed operand (int, flag, register) shares the slot before it (OperandSpec, compile.ts).
    if ('packed' in spec && spec.packed) continue;
    slot++;
    if (spec.kind === 'expr') out.push(p.code[pc + slot]! & 0xffff);
  }
  return out;
}

function exprNamesCpu(p: Program, off: number): boolean {
  for (let i = off; p.exprs[i] !== E_END; i += 2) if (p.exprs[i] === E_CPU || p.exprs[i] === E_PER_CPU) return true;
  return false;
}

/**
 * Whether swapping CPUs a and b maps the program onto itself (see the file
 * comment). Code is compared instruction by instruction, with jump targets
 * relative to the start of their own code and expressions by content.
 */
function swappable(p: Program, a: number, b: number): boolean {
  const swap = (mask: number): number => {
    const ba = (mask >> a) & 1;
    const bb = (mask >> b) & 1;
    return (mask & ~((1 << a) | (1 << b))) | (ba << b) | (bb << a);
  };
  const pinnedTo = (c: number) => p.tasks.flatMap((t, i) => (t.allowedMask === 1 << c ? [i] : []));
  const [ta, tb] = [pinnedTo(a), pinnedTo(b)];
  if (ta.length !== tb.length) return false;
  for (let k = 0; k < ta.length; k++) {
    const [x, y] = [p.tasks[ta[k]!]!, p.tasks[tb[k]!]!];
    if (!!x.idle !== !!y.idle || !sameCode(p, x.entry, y.entry)) return false;
  }
  for (const t of p.tasks) if ((t.allowedMask & (t.allowedMask - 1)) !== 0 && swap(t.allowedMask) !== t.allowedMask) return false;
  const linesTo = (c: number) => p.irqs.flatMap((l, i) => (l.cpuMask === 1 << c ? [i] : []));
  const [la, lb] = [linesTo(a), linesTo(b)];
  if (la.length !== lb.length) return false;
  for (let k = 0; k < la.length; k++) {
    const [x, y] = [p.irqs[la[k]!]!, p.irqs[lb[k]!]!];
    if (x.budget !== y.budget || x.nmi !== y.nmi || !sameCode(p, x.entry, y.entry)) return false;
  }
  for (const l of p.irqs) if ((l.cpuMask & (l.cpuMask - 1)) !== 0 && swap(l.cpuMask) !== l.cpuMask) return false;
  for (const inv of p.invariants) if (canonicalExpr(p, inv.expr, a, b) !== canonicalExpr(p, inv.expr, -1, -1)) return false;
  return true;
}

/** Equal code at two entries: same instructions, jumps relative to the entry, loops and expressions by content. */
function sameCode(p: Program, x: number, y: number): boolean {
  if (x === y) return true;
  if (x < p.designStart || y < p.designStart) return false;
  const rx = regionOf(p, x);
  const ry = regionOf(p, y);
  if (rx.length !== ry.length) return false;
  for (let k = 0; k < rx.length; k++) {
    if (rx[k]! * INSN_WIDTH - x !== ry[k]! * INSN_WIDTH - y) return false;
    const [px, py] = [rx[k]! * INSN_WIDTH, ry[k]! * INSN_WIDTH];
    const op = p.code[px]!;
    if (op !== p.code[py]) return false;
    if (p.insnStructs[px / INSN_WIDTH] !== p.insnStructs[py / INSN_WIDTH]) return false;
    const name = OPS[op]!.name;
    const ox = [p.code[px + 1]!, p.code[px + 2]!, p.code[px + 3]!];
    const oy = [p.code[py + 1]!, p.code[py + 2]!, p.code[py + 3]!];
    if (name === 'jmp') {
      if (ox[0]! - x !== oy[0]! - y) return false;
    } else if (name === 'brz' || name === 'while') {
      if (exprKey(p, ox[0]!) !== exprKey(p, oy[0]!) || ox[1]! - x !== oy[1]! - y) return false;
      if (name === 'while' && (ox[2]! < 0 || oy[2]! < 0)) {
        if (ox[2] !== oy[2]) return false;
      } else if (name === 'while') {
        const [lx, ly] = [p.loops[ox[2]!]!, p.loops[oy[2]!]!];
        if (lx.bound !== ly.bound || lx.reg !== ly.reg) return false;
      }
    } else {
      const specs: readonly OperandSpec[] = OPS[op]!.operands ?? [];
      let slot = 0;
      const exprSlots = new Set<number>();
      for (const spec of specs) {
        if ('packed' in spec && spec.packed) continue;
        if (spec.kind === 'expr') exprSlots.add(slot);
        slot++;
      }
      for (let i = 0; i < 3; i++) {
        if (exprSlots.has(i)) {
          if (exprKey(p, ox[i]! & 0xffff) !== exprKey(p, oy[i]! & 0xffff) || ox[i]! >> 16 !== oy[i]! >> 16) return false;
        } else if (ox[i] !== oy[i]) {
          return false;
        }
      }
    }
  }
  return true;
}

/** An expression's tokens as a string. */
function exprKey(p: Program, off: number): string {
  const out: number[] = [];
  for (let i = off; ; i += 2) {
    out.push(p.exprs[i]!, p.exprs[i + 1]!);
    if (p.exprs[i] === E_END) break;
  }
  return out.join(',');
}

/**
 * An invariant's expression as a canonical string with CPUs a and b swapped
 * (a = −1: none), commutative operands sorted, associative chains flattened.
 */
function canonicalExpr(p: Program, off: number, a: number, b: number): string {
  type Node = { op: string; args: Node[] } | string;
  const stack: Node[] = [];
  for (let i = off; p.exprs[i] !== E_END; i += 2) {
    const [tok, arg] = [p.exprs[i]!, p.exprs[i + 1]!];
    if (tok === E_BIN) {
      const y = stack.pop()!;
      const x = stack.pop()!;
      stack.push({ op: BINARY_FNS[arg]!, args: [x, y] });
    } else if (tok === E_NOT) {
      stack.push({ op: '!', args: [stack.pop()!] });
    } else if (tok === E_PER_CPU) {
      let c = arg & 15;
      if (c === a) c = b;
      else if (c === b) c = a;
      stack.push(`${tok}:${arg >> 4}:${c}`);
    } else {
      stack.push(`${tok}:${arg}`);
    }
  }
  const ASSOC = new Set(['+', '&&', '||']);
  const COMM = new Set(['+', '&&', '||', '==', '!=']);
  /** The operands of a chain of one associative operator, however it is grouped. */
  const operands = (n: Node, op: string): Node[] => (typeof n !== 'string' && n.op === op ? n.args.flatMap((x) => operands(x, op)) : [n]);
  const show = (n: Node): string => {
    if (typeof n === 'string') return n;
    const args = ASSOC.has(n.op) ? n.args.flatMap((x) => operands(x, n.op)) : n.args;
    const parts = args.map(show);
    if (COMM.has(n.op)) parts.sort();
    return `${n.op}(${parts.join(',')})`;
  };
  return show(stack[0]!);
}
