/**
 * A schedule as a picture: one self-contained HTML page (no network, no
 * script or font from elsewhere) that a kernel developer opens in a
 * browser, written by `kdefer replay <file> --html out.html`.
 *
 *  - Time runs left to right, one column per step (column 0 is the start).
 *  - One lane per CPU. In it the CPU's context frames are stacked as the
 *    kernel stacks them: the task at the bottom, a softirq batch above it,
 *    a hardirq on top; each frame is a bar as long as it lives, named
 *    (`task ethtool`, `softirq NET_RX`, `hardirq eth0`), hatched while it
 *    spins or sleeps on a lock. A dot marks the context that ran the step.
 *    Tasks asleep on the CPU get a row of their own below.
 *  - Above each lane, the step's event: an interrupt arriving (a triangle
 *    named by its line), a timer tick, a softirq run point (a diamond where
 *    pending softirqs start to run: irq_exit, local_bh_enable, ksoftirqd),
 *    a softirq raised, a schedule or preemption.
 *  - One lane per lock, below the CPUs: a bar per hold, named by the
 *    holder, and a hatched bar per context waiting for it.
 *  - The violation: its column and the contexts stuck in it outlined in
 *    red, its kind and message at the top.
 *  - A cursor on one step; ←/→ (and Home/End, or a click on a column or a
 *    step) moves it, and the panel below shows that step's label and every
 *    CPU's state after it: the context stack with the locks each frame
 *    holds, irqs, preempt and bh counts, softirqs pending.
 *
 * Everything is computed here from observeSchedule (the one replay the
 * text trace, lockdep's report and the Perfetto export read), so the page
 * never reimplements a rule of the model. The page is a pure function of
 * its inputs: the same program, choices and violation give the same bytes.
 */
import type { ViolationKind } from '../check/violation.ts';
import type { Program } from '../kernel/program.ts';
import { CHOICE_SOURCES } from '../kernel/registry.ts';
import { CHOICE_RUN, choiceKind } from '../kernel/semantics.ts';
import { observeSchedule, type CpuView, type FrameView, type StepView } from './observe.ts';
import { frameText, stateText } from './trace.ts';

/** The violation a picture highlights: what `check` or a counterexample file says of the schedule. */
export interface PictureViolation {
  readonly kind: ViolationKind;
  readonly message: string;
}

/** What else the page says about the schedule. */
export interface PictureOptions {
  /** The bounds the schedule was found within, as boundsText spells them. */
  readonly bounds?: string;
  /** Where the schedule comes from, e.g. the counterexample file. */
  readonly source?: string;
}

// ---------------------------------------------------------------- geometry (px)

/** Width of a step's column: wide enough for labels, narrower for long schedules (they scroll). */
const STEP_W_MIN = 64;
const STEP_W_MAX = 150;
/** The width a short schedule is spread over. */
const PICTURE_W = 1120;
const GUTTER_W = 168;
const ROW_H = 24;
const BAR_H = 18;
const MARKER_H = 30;
const HEADER_H = 26;
const LANE_GAP = 10;
const LOCK_ROW_H = 20;
/** A bar's label is repeated this far apart along a long bar. */
const LABEL_REPEAT = 720;
/** Roughly how wide one character of an 11px label is. */
const CHAR_W = 6.4;

/** The horizontal scale of one picture. */
interface Geometry {
  readonly stepW: number;
  readonly colX: (col: number) => number;
}

function geometry(columns: number): Geometry {
  const stepW = Math.max(STEP_W_MIN, Math.min(STEP_W_MAX, Math.floor(PICTURE_W / columns)));
  return { stepW, colX: (col) => col * stepW };
}

// ---------------------------------------------------------------- text

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** `text` cut to fit `width` pixels, with an ellipsis. */
function fit(text: string, width: number): string {
  const room = Math.floor((width - 8) / CHAR_W);
  if (room <= 1) return '';
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
}

// ---------------------------------------------------------------- the schedule, column by column

/** One column: the state after a step (column 0: before the first). */
interface Column {
  readonly index: number;
  readonly step: StepView | null;
  readonly cpus: readonly CpuView[];
}

/** What a step did, as the event row shows it. */
interface Marker {
  readonly kind: 'irq' | 'tick' | 'softirq' | 'raise' | 'event';
  readonly text: string;
  readonly title: string;
}

/** The name of a step's choice source (`irq`, `tick`, `schedule`…), or `run`. */
function sourceOf(step: StepView): string {
  const kind = choiceKind(step.choice);
  return kind === CHOICE_RUN ? 'run' : CHOICE_SOURCES[kind - 1]?.name ?? 'event';
}

/** The marker for `cpu` at `col`, if the step there did something worth marking on that CPU. */
function markerAt(columns: readonly Column[], col: number, cpu: number): Marker | null {
  const step = columns[col]!.step;
  if (!step) return null;
  const source = sourceOf(step);
  if (step.cpu === cpu && source === 'irq') {
    const line = /^(\S+) interrupt arrives/.exec(step.action)?.[1] ?? 'irq';
    return { kind: 'irq', text: line, title: step.label };
  }
  if (step.cpu === cpu && source === 'tick') return { kind: 'tick', text: 'tick', title: step.label };
  if (step.cpu === cpu && source !== 'run') {
    const short: Record<string, string> = { schedule: 'schedule', preempt: 'preempt', migrate: 'migrate', ksoftirqd: 'ksoftirqd', timeout: 'timeout' };
    return { kind: 'event', text: short[source] ?? source, title: step.label };
  }
  const before = columns[col - 1]!.cpus[cpu]!;
  const after = columns[col]!.cpus[cpu]!;
  const old = new Set(before.stack.map((f) => f.key));
  const started = after.stack.find((f) => (f.kind === 'softirq' || f.kind === 'ksoftirqd') && !old.has(f.key));
  if (started) {
    const where = step.cpu === cpu ? step.label : `cpu${cpu}`;
    return { kind: 'softirq', text: started.kind === 'ksoftirqd' ? 'ksoftirqd' : 'softirq', title: `pending softirqs run (${where})` };
  }
  const raised = after.pending.filter((v) => !before.pending.includes(v));
  if (raised.length > 0) return { kind: 'raise', text: raised.join('|'), title: `${raised.join(', ')} raised: ${step.label}` };
  return null;
}

/** A run of columns a bar covers. */
interface Span<T> {
  readonly from: number;
  readonly to: number;
  readonly value: T;
}

/** Consecutive columns with the same `key` merged into spans (columns with no value are gaps). */
function spans<T>(count: number, at: (col: number) => T | null, key: (v: T) => string): Span<T>[] {
  const out: Span<T>[] = [];
  let open: { from: number; value: T; key: string } | null = null;
  for (let col = 0; col <= count; col++) {
    const v = col < count ? at(col) : null;
    const k = v === null ? null : key(v);
    if (open && k !== open.key) {
      out.push({ from: open.from, to: col - 1, value: open.value });
      open = null;
    }
    if (v !== null && k !== null && !open) open = { from: col, value: v, key: k };
  }
  return out;
}

// ---------------------------------------------------------------- drawing

/** SVG for one bar: a rounded rect with a label and a tooltip. */
function bar(x: number, y: number, w: number, h: number, cls: string, label: string, title: string, data: Record<string, string>): string {
  const attrs = Object.entries(data).map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`).join('');
  const text = fit(label, Math.min(w, LABEL_REPEAT));
  // A long bar repeats its label, so that it stays in sight when the picture is scrolled.
  const labels: string[] = [];
  for (let at = 0; text && (at === 0 || at + 200 < w); at += LABEL_REPEAT) {
    labels.push(`<text x="${x + 7 + at}" y="${y + h / 2 + 4}"${at > 0 ? ' class="again"' : ''}>${escapeHtml(text)}</text>`);
  }
  return `<g class="${cls}"${attrs}><title>${escapeHtml(title)}</title>` +
    `<rect x="${x + 1}" y="${y}" width="${Math.max(2, w - 2)}" height="${h}" rx="4"/>${labels.join('')}</g>`;
}

const KIND_CLASS: Record<FrameView['kind'], string> = { task: 'task', softirq: 'softirq', ksoftirqd: 'ksoftirqd', hardirq: 'hardirq' };

/** A frame's tooltip: its name, the locks it holds and what it waits for. */
const frameTitle = (f: FrameView): string => `${frameText(f)}${f.insn ? `\nat ${f.where}: ${f.insn}` : ''}`;

/**
 * The row each frame of a stack is drawn in, bottom row 0: the task (or a
 * kernel thread) in the task row, a softirq batch (or ksoftirqd) in the
 * softirq row, each hardirq in a hardirq row above (a second one only where
 * hardirqs nest, as in the 2.4 profile). So a hardirq that interrupts a task
 * and one that interrupts a softirq are drawn at the same height, and an
 * idle CPU's softirq is not drawn where its task would be. A frame that
 * would share a row with one below it goes one row up.
 */
function rowsOf(stack: readonly FrameView[]): number[] {
  const rows: number[] = [];
  let hardirqs = 0;
  for (const f of stack) {
    let row = f.kind === 'task' ? 0 : f.kind === 'softirq' || f.kind === 'ksoftirqd' ? 1 : 2 + hardirqs++;
    if (rows.length > 0 && row <= rows.at(-1)!) row = rows.at(-1)! + 1;
    rows.push(row);
  }
  return rows;
}

/** A task asleep waiting for work in its kernel thread's loop (an idle kworker): not drawn, it is not part of the story. */
const idleKernelThread = (f: FrameView): boolean => f.where.startsWith('kernel: ') && f.waiting === null;

interface Lane {
  readonly cpu: number;
  readonly top: number;
  /** The frame rows used (always the task row), bottom first: row numbers as rowsOf gives them. */
  readonly rows: readonly number[];
  /** Tasks drawn asleep, one row each, below the frames. */
  readonly sleepers: readonly string[];
  readonly height: number;
}

function laneLayout(columns: readonly Column[], ncpu: number, top0: number): Lane[] {
  const lanes: Lane[] = [];
  let top = top0;
  for (let cpu = 0; cpu < ncpu; cpu++) {
    const used = new Set<number>([0]);
    for (const c of columns) for (const r of rowsOf(c.cpus[cpu]!.stack)) used.add(r);
    const rows = [...used].sort((a, b) => a - b);
    const sleepers = [...new Set(columns.flatMap((c) => c.cpus[cpu]!.asleep.filter((t) => !idleKernelThread(t)).map((t) => t.name)))];
    const height = MARKER_H + (rows.length + sleepers.length) * ROW_H + 6;
    lanes.push({ cpu, top, rows, sleepers, height });
    top += height + LANE_GAP;
  }
  return lanes;
}

/** The name of a frame row in the gutter. */
const rowName = (row: number): string => (row === 0 ? 'task' : row === 1 ? 'softirq' : row === 2 ? 'hardirq' : `hardirq ${row - 1}`);

/** The SVG of one CPU lane: event markers, frame bars, asleep tasks. */
function cpuLane(g: Geometry, columns: readonly Column[], lane: Lane, lastCol: number, stuck: ReadonlySet<string>): string {
  const out: string[] = [];
  const { cpu, top } = lane;
  const { colX, stepW } = g;
  out.push(`<g class="lane" data-cpu="${cpu}">`);
  out.push(`<rect class="lane-bg" x="0" y="${top}" width="${colX(columns.length)}" height="${lane.height}"/>`);
  // Events above the frames.
  for (let col = 1; col < columns.length; col++) {
    const m = markerAt(columns, col, cpu);
    if (!m) continue;
    const cx = colX(col) + stepW / 2;
    const y = top + 6;
    const shape = m.kind === 'irq'
      ? `<path d="M${cx - 7},${y} L${cx + 7},${y} L${cx},${y + 10} Z"/>`
      : m.kind === 'softirq'
        ? `<path d="M${cx},${y - 1} L${cx + 6},${y + 5} L${cx},${y + 11} L${cx - 6},${y + 5} Z"/>`
        : m.kind === 'tick'
          ? `<circle cx="${cx}" cy="${y + 5}" r="5"/>`
          : m.kind === 'raise'
            ? `<circle cx="${cx}" cy="${y + 5}" r="3"/>`
            : `<rect x="${cx - 5}" y="${y}" width="10" height="10" rx="2"/>`;
    out.push(`<g class="marker ${m.kind}" data-event="${m.kind}" data-step="${col}"><title>${escapeHtml(m.title)}</title>${shape}` +
      `<text x="${cx}" y="${y + 22}" text-anchor="middle">${escapeHtml(fit(m.text, stepW + 8))}</text></g>`);
  }
  // Frames, in their rows: the task row at the bottom.
  const slot = new Map(lane.rows.map((row, i) => [row, i]));
  const rowY = (row: number) => top + MARKER_H + (lane.rows.length - 1 - slot.get(row)!) * ROW_H + (ROW_H - BAR_H) / 2;
  for (const row of lane.rows) {
    const at = (col: number): FrameView | null => {
      const stack = columns[col]!.cpus[cpu]!.stack;
      const i = rowsOf(stack).indexOf(row);
      return i >= 0 ? stack[i]! : null;
    };
    let previous: FrameView | null = null;
    for (const s of spans(columns.length, at, (f) => `${f.key}|${f.name}|${f.waiting ? 'w' : ''}`)) {
      const f = s.value;
      const continues = previous !== null && previous.key === f.key && s.from > 0 && at(s.from - 1)?.key === f.key;
      const cls = `frame ${KIND_CLASS[f.kind]}${f.waiting ? ' waiting' : ''}${s.to === lastCol && stuck.has(`${cpu}:${f.name}`) ? ' stuck' : ''}`;
      const what = f.waiting ? `${f.waiting.how} on ${f.waiting.name}` : '';
      const label = continues && previous!.name === f.name ? what : f.waiting ? `${f.name} · ${what}` : f.name;
      out.push(bar(colX(s.from), rowY(row), colX(s.to + 1) - colX(s.from), BAR_H, cls, label, frameTitle(f), { kind: f.kind, name: f.name, from: String(s.from), to: String(s.to) }));
      previous = f;
    }
  }
  // Who ran each step: a dot on the acting context's bar (where it was, if the step ended it).
  for (let col = 1; col < columns.length; col++) {
    const step = columns[col]!.step!;
    if (step.cpu !== cpu || step.actor === null) continue;
    const rowIn = (c: Column) => {
      const i = c.cpus[cpu]!.stack.findIndex((f) => f.ctx === step.actorCtx);
      return i >= 0 ? rowsOf(c.cpus[cpu]!.stack)[i]! : -1;
    };
    const row = rowIn(columns[col]!) >= 0 ? rowIn(columns[col]!) : rowIn(columns[col - 1]!);
    if (row < 0 || !slot.has(row)) continue;
    out.push(`<circle class="actor" cx="${colX(col) + stepW / 2}" cy="${rowY(row)}" r="2.5"><title>${escapeHtml(step.label)}</title></circle>`);
  }
  // Tasks asleep on a lock, a completion, a wait queue: one row each.
  lane.sleepers.forEach((name, i) => {
    const y = top + MARKER_H + (lane.rows.length + i) * ROW_H + (ROW_H - BAR_H) / 2;
    const at = (col: number) => columns[col]!.cpus[cpu]!.asleep.find((t) => t.name === name && !idleKernelThread(t)) ?? null;
    for (const s of spans(columns.length, at, (t) => t.key)) {
      const t = s.value;
      const stuckHere = s.to === lastCol && stuck.has(`${cpu}:${t.name}`);
      out.push(bar(colX(s.from), y, colX(s.to + 1) - colX(s.from), BAR_H, `frame asleep${stuckHere ? ' stuck' : ''}`, `${name} asleep · ${t.insn}`, `asleep: ${frameTitle(t)}`, { kind: 'asleep', name }));
    }
  });
  out.push('</g>');
  return out.join('');
}

/** The lock lanes: holds and waits, per lock. */
function lockLanes(g: Geometry, columns: readonly Column[], p: Program, top: number): { svg: string; height: number; lanes: { name: string; top: number }[] } {
  const out: string[] = [];
  const lanes: { name: string; top: number }[] = [];
  const { colX } = g;
  let y = top;
  const frames = (col: number) => columns[col]!.cpus.flatMap((c) => [...c.stack, ...c.asleep].map((f) => ({ f, cpu: c.cpu })));
  for (let lock = 0; lock < p.locks.length; lock++) {
    const name = `&${p.locks[lock]!.name}`;
    const holders = (col: number) => {
      const hs = frames(col).filter(({ f }) => f.held.some((h) => h.lock === lock));
      return hs.length === 0 ? null : hs;
    };
    const waiters = [...new Set(columns.flatMap((_, col) => frames(col).filter(({ f }) => f.waiting?.lock === lock).map(({ f }) => f.name)))];
    const height = LOCK_ROW_H * (1 + Math.max(1, waiters.length)) + 8;
    out.push(`<g class="lock-lane" data-lock="${escapeHtml(name)}"><rect class="lane-bg lock" x="0" y="${y}" width="${colX(columns.length)}" height="${height}"/>`);
    // By name: a holder that goes to sleep with the lock (a mutex) is still the one holder.
    for (const s of spans(columns.length, holders, (hs) => hs.map(({ f }) => f.name).join(','))) {
      const hs = s.value;
      const read = hs.some(({ f }) => f.held.some((h) => h.lock === lock && h.read));
      const who = hs.map(({ f, cpu }) => `${f.name} (cpu${cpu})`).join(', ');
      out.push(bar(colX(s.from), y + 4, colX(s.to + 1) - colX(s.from), LOCK_ROW_H - 4, `hold ${KIND_CLASS[hs[0]!.f.kind]}`, `${hs.map(({ f }) => f.name).join(', ')}${read ? ' (read)' : ''}`,
        `${name} held by ${who}${read ? ' for read' : ''}, steps ${s.from}–${s.to}`, { lock: name }));
    }
    waiters.forEach((waiter, i) => {
      const wy = y + 4 + LOCK_ROW_H * (i + 1);
      const at = (col: number) => frames(col).find(({ f }) => f.name === waiter && f.waiting?.lock === lock) ?? null;
      for (const s of spans(columns.length, at, ({ f }) => f.name)) {
        const { f, cpu } = s.value;
        out.push(bar(colX(s.from), wy, colX(s.to + 1) - colX(s.from), LOCK_ROW_H - 4, `wait ${KIND_CLASS[f.kind]}`, `${f.name} ${f.waiting!.how}`,
          `${f.name} (cpu${cpu}) ${f.waiting!.how} on ${name}, steps ${s.from}–${s.to}`, { lock: name }));
      }
    });
    out.push('</g>');
    lanes.push({ name, top: y });
    y += height + LANE_GAP;
  }
  return { svg: out.join(''), height: y - top, lanes };
}

// ---------------------------------------------------------------- the panel

/** The state of every CPU after column `col`, as the panel shows it. */
function panel(column: Column, total: number): string {
  const step = column.step;
  const head = step
    ? `<div class="step-head"><span class="step-no">step ${column.index} of ${total}</span><code>${escapeHtml(step.label)}</code></div>`
    : `<div class="step-head"><span class="step-no">start</span><code>before the first step</code></div>`;
  const cpus = column.cpus.map((c) => {
    const frames = c.stack.length === 0
      ? '<li class="idle">idle</li>'
      : [...c.stack].reverse().map((f) => `<li class="${KIND_CLASS[f.kind]}${f.waiting ? ' waiting' : ''}">${escapeHtml(frameText(f))}</li>`).join('');
    const asleep = c.asleep.map((t) => `<li class="asleep">asleep: ${escapeHtml(frameText(t))}</li>`).join('');
    return `<div class="cpu-card${step && step.cpu === c.cpu ? ' acting' : ''}"><h3>cpu${c.cpu}</h3><ul class="stack">${frames}${asleep}</ul><p class="state">${escapeHtml(stateText(c))}</p></div>`;
  }).join('');
  return `<section class="panel" data-step="${column.index}"${column.index === 0 ? '' : ' hidden'}>${head}<div class="cpus">${cpus}</div></section>`;
}

// ---------------------------------------------------------------- the page

const STYLE = `
:root { --task:#4e79a7; --softirq:#59a14f; --ksoftirqd:#76b7b2; --hardirq:#f28e2b; --bad:#c0392b; --ink:#1d2330; --muted:#6b7280; --bg:#ffffff; --lane:#f4f6f9; --lock:#f8f5ee; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 14px 20px 10px; border-bottom: 1px solid #e5e7eb; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; }
header h1 .kind { color: var(--bad); }
header .meta { color: var(--muted); margin-top: 2px; }
.violation { margin: 10px 0 0; padding: 8px 12px; border-left: 4px solid var(--bad); background: #fdf2f1; font: 12px/1.5 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; white-space: pre-wrap; }
.violation b { color: var(--bad); }
.legend { display: flex; flex-wrap: wrap; gap: 14px; padding: 8px 20px; color: var(--muted); font-size: 12px; align-items: center; }
.legend i { display: inline-block; width: 14px; height: 10px; border-radius: 3px; margin-right: 5px; vertical-align: -1px; }
.legend i.hatched { background: repeating-linear-gradient(45deg, #fff 0 2px, rgba(192,57,43,.35) 2px 4px); border: 1.5px solid #64748b; }
.legend i.stuck { background: #fff; border: 2.5px solid var(--bad); }
.legend kbd { font: 11px ui-monospace, monospace; border: 1px solid #cbd5e1; border-bottom-width: 2px; border-radius: 4px; padding: 0 4px; background: #f8fafc; color: var(--ink); }
.timeline { display: flex; border-top: 1px solid #e5e7eb; border-bottom: 1px solid #e5e7eb; }
.gutter { flex: none; background: #fbfcfd; border-right: 1px solid #e5e7eb; }
.gutter text { font-size: 12px; fill: var(--ink); }
.gutter text.sub { fill: var(--muted); font-size: 11px; }
.scroll { overflow-x: auto; flex: 1; }
svg text { font-size: 11px; fill: var(--ink); pointer-events: none; }
.lane-bg { fill: var(--lane); }
.lane-bg.lock { fill: var(--lock); }
.grid line { stroke: #e5e7eb; }
.colhead text { fill: var(--muted); font: 11px ui-monospace, "DejaVu Sans Mono", monospace; }
.col-hit { fill: transparent; cursor: pointer; }
.frame rect, .hold rect, .wait rect { stroke: rgba(0,0,0,.18); }
.frame text, .hold text, .wait text { fill: #fff; font-weight: 500; }
.frame text.again, .hold text.again { opacity: .75; }
.frame.task rect, .hold.task rect { fill: var(--task); }
.frame.softirq rect, .hold.softirq rect { fill: var(--softirq); }
.frame.ksoftirqd rect, .hold.ksoftirqd rect { fill: var(--ksoftirqd); }
.frame.hardirq rect, .hold.hardirq rect { fill: var(--hardirq); }
.frame.waiting rect, .wait rect { fill: url(#hatch); stroke-width: 1.5; }
.frame.waiting.task rect, .wait.task rect { stroke: var(--task); }
.frame.waiting.softirq rect, .wait.softirq rect { stroke: var(--softirq); }
.frame.waiting.ksoftirqd rect, .wait.ksoftirqd rect { stroke: var(--ksoftirqd); }
.frame.waiting.hardirq rect, .wait.hardirq rect { stroke: var(--hardirq); }
.frame.waiting text, .wait text { fill: var(--ink); }
.frame.asleep rect { fill: #fff; stroke: #94a3b8; stroke-dasharray: 4 3; }
.frame.asleep text { fill: var(--muted); }
.frame.stuck rect { stroke: var(--bad) !important; stroke-width: 2.5 !important; stroke-dasharray: none !important; }
.actor { fill: #fff; stroke: var(--ink); stroke-width: 1.5; pointer-events: none; }
.marker path, .marker circle, .marker rect { stroke: none; }
.marker.irq path { fill: var(--hardirq); }
.marker.softirq path { fill: var(--softirq); }
.marker.tick circle { fill: none; stroke: var(--ink); stroke-width: 1.5; }
.marker.raise circle { fill: var(--softirq); }
.marker.event rect { fill: #94a3b8; }
.marker text { fill: var(--muted); font-size: 10px; }
.marker.irq text { fill: #b45309; font-weight: 600; }
.marker.softirq text { fill: #2f6f2a; font-weight: 600; }
.violation-col { fill: rgba(192,57,43,.07); stroke: var(--bad); stroke-width: 1; stroke-dasharray: 4 3; pointer-events: none; }
.violation-tag rect { fill: var(--bad); }
.violation-tag text { fill: #fff; font-weight: 600; }
#cursor { fill: rgba(29,35,48,.07); stroke: var(--ink); stroke-width: 1.5; pointer-events: none; }
main { display: grid; grid-template-columns: minmax(0, 1fr) 380px; gap: 0; }
.panels { padding: 12px 20px; }
.step-head { display: flex; gap: 12px; align-items: baseline; margin-bottom: 10px; }
.step-no { font-weight: 600; white-space: nowrap; }
.step-head code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; background: #f1f5f9; padding: 2px 6px; border-radius: 4px; }
.cpus { display: flex; flex-wrap: wrap; gap: 12px; }
.cpu-card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; min-width: 260px; flex: 1; }
.cpu-card.acting { border-color: var(--ink); box-shadow: 0 1px 4px rgba(0,0,0,.08); }
.cpu-card h3 { margin: 0 0 6px; font-size: 13px; }
.stack { list-style: none; margin: 0; padding: 0; font: 12px ui-monospace, "DejaVu Sans Mono", monospace; }
.stack li { padding: 3px 8px; margin: 2px 0; border-radius: 4px; color: #fff; }
.stack li.task { background: var(--task); } .stack li.softirq { background: var(--softirq); }
.stack li.ksoftirqd { background: var(--ksoftirqd); } .stack li.hardirq { background: var(--hardirq); }
.stack li.waiting { outline: 2px solid var(--bad); }
.stack li.idle, .stack li.asleep { color: var(--muted); background: #f1f5f9; }
.state { margin: 6px 0 0; color: var(--muted); font-size: 12px; }
.steps { border-left: 1px solid #e5e7eb; max-height: 420px; overflow-y: auto; margin: 0; padding: 6px 0; list-style: none; font: 12px ui-monospace, "DejaVu Sans Mono", monospace; }
.steps li { padding: 3px 12px; cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.steps li span { color: var(--muted); display: inline-block; width: 3ch; text-align: right; margin-right: 8px; }
.steps li[aria-current="step"] { background: #1d2330; color: #fff; }
.steps li[aria-current="step"] span { color: #cbd5e1; }
.steps li.bad { color: var(--bad); font-weight: 600; }
`;

/** Moves the cursor: ←/→, Home/End, or a click on a column or a step. */
const SCRIPT = `
(() => {
  const last = Number(document.body.dataset.steps);
  const cursor = document.getElementById('cursor');
  const scroll = document.querySelector('.scroll');
  const panels = [...document.querySelectorAll('.panel')];
  const items = [...document.querySelectorAll('.steps li')];
  const W = Number(document.body.dataset.stepWidth);
  function show(i) {
    i = Math.max(0, Math.min(last, i));
    document.body.dataset.step = String(i);
    cursor.setAttribute('x', String(i * W));
    panels.forEach((p) => { p.hidden = Number(p.dataset.step) !== i; });
    items.forEach((li) => { if (Number(li.dataset.step) === i) { li.setAttribute('aria-current', 'step'); li.scrollIntoView({ block: 'nearest' }); } else li.removeAttribute('aria-current'); });
    const x = i * W;
    if (x < scroll.scrollLeft || x + W > scroll.scrollLeft + scroll.clientWidth) scroll.scrollLeft = Math.max(0, x - scroll.clientWidth / 2);
  }
  document.addEventListener('keydown', (e) => {
    const i = Number(document.body.dataset.step);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: last }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    show(to);
  });
  document.querySelectorAll('[data-col]').forEach((el) => el.addEventListener('click', () => show(Number(el.dataset.col))));
  items.forEach((li) => li.addEventListener('click', () => show(Number(li.dataset.step))));
  show(0);
})();
`;

/**
 * The page for `choices` replayed on `p`, highlighting `violation` (the
 * one the replay reaches if not given). Deterministic; never throws for a
 * schedule that does not fit the model (the page says where it stops).
 */
export function scheduleHtml(p: Program, choices: readonly number[], violation?: PictureViolation | null, options: PictureOptions = {}): string {
  const view = observeSchedule(p, choices);
  const shown = violation === undefined ? view.violation : violation;
  const columns: Column[] = [
    { index: 0, step: null, cpus: view.initial },
    ...view.steps.map((st) => ({ index: st.index, step: st, cpus: st.cpus })),
  ];
  const n = view.steps.length;
  const g = geometry(columns.length);
  const { colX, stepW } = g;
  const lanes = laneLayout(columns, p.ncpu, HEADER_H);
  const cpuBottom = lanes.length > 0 ? lanes.at(-1)!.top + lanes.at(-1)!.height + LANE_GAP : HEADER_H;
  const locks = lockLanes(g, columns, p, cpuBottom);
  const height = cpuBottom + locks.height + 4;
  const width = colX(columns.length);

  // The contexts stuck in the violation, by CPU and name: a deadlock's wait-for cycle, every context
  // still spinning or sleeping on a lock at the end, and the context the violation names.
  const stuck = new Set<string>();
  if (shown && n > 0) {
    for (const w of view.violation?.cycle ?? []) stuck.add(`${w.cpu}:${w.context}`);
    for (const c of columns[n]!.cpus) for (const f of [...c.stack, ...c.asleep]) if (f.waiting) stuck.add(`${c.cpu}:${f.name}`);
    if (view.violation?.context) stuck.add(`${view.violation.cpu}:${view.violation.context}`);
  }

  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" class="picture" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  svg.push('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c0392b" stroke-opacity=".35" stroke-width="3"/></pattern></defs>');
  svg.push('<g class="grid">');
  for (let col = 0; col <= columns.length; col++) svg.push(`<line x1="${colX(col)}" y1="0" x2="${colX(col)}" y2="${height}"/>`);
  svg.push('</g><g class="colhead">');
  for (let col = 0; col < columns.length; col++) svg.push(`<text x="${colX(col) + stepW / 2}" y="17" text-anchor="middle">${col === 0 ? 'start' : col}</text>`);
  svg.push('</g>');
  for (const lane of lanes) svg.push(cpuLane(g, columns, lane, n, stuck));
  svg.push(locks.svg);
  if (shown && n > 0) {
    svg.push(`<rect class="violation-col" x="${colX(n) + 1}" y="${HEADER_H - 2}" width="${stepW - 2}" height="${height - HEADER_H}"/>`);
    const tag = shown.kind;
    const w = Math.max(stepW - 6, tag.length * CHAR_W + 14);
    svg.push(`<g class="violation-tag"><rect x="${colX(n) + stepW - w - 3}" y="3" width="${w}" height="18" rx="9"/><text x="${colX(n) + stepW - w / 2 - 3}" y="16" text-anchor="middle">${escapeHtml(tag)}</text></g>`);
  }
  for (let col = 0; col < columns.length; col++) svg.push(`<rect class="col-hit" data-col="${col}" x="${colX(col)}" y="0" width="${stepW}" height="${height}"><title>${escapeHtml(columns[col]!.step?.label ?? 'start')}</title></rect>`);
  svg.push(`<rect id="cursor" x="0" y="1" width="${stepW}" height="${height - 2}" rx="3"/>`);
  svg.push('</svg>');

  const gutter: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${GUTTER_W}" height="${height}">`];
  for (const lane of lanes) {
    gutter.push(`<text x="14" y="${lane.top + 18}" font-weight="600">cpu${lane.cpu}</text>`);
    lane.rows.forEach((row, i) => {
      const y = lane.top + MARKER_H + (lane.rows.length - 1 - i) * ROW_H + ROW_H / 2 + 4;
      gutter.push(`<text class="sub" x="26" y="${y}">${rowName(row)}</text>`);
    });
    lane.sleepers.forEach((_, i) => {
      gutter.push(`<text class="sub" x="26" y="${lane.top + MARKER_H + (lane.rows.length + i) * ROW_H + ROW_H / 2 + 4}">asleep</text>`);
    });
  }
  for (const lane of locks.lanes) {
    gutter.push(`<text x="14" y="${lane.top + 18}" font-weight="600">lock ${escapeHtml(fit(lane.name, GUTTER_W - 40))}</text>`);
    gutter.push(`<text class="sub" x="26" y="${lane.top + 18 + LOCK_ROW_H}">waiting</text>`);
  }
  gutter.push('</svg>');

  const title = `${p.design.name}${shown ? `: ${shown.kind}` : ''}`;
  const meta = [
    `${n} step${n === 1 ? '' : 's'}`,
    options.bounds ? `within ${options.bounds}` : `${p.ncpu} CPU${p.ncpu === 1 ? '' : 's'}, profile ${p.design.profile ?? 'modern'}, preempt ${p.preempt}`,
  ].join(' · ');
  const problem = view.mismatch ? `<div class="violation"><b>the schedule does not replay at step ${view.mismatch.step + 1}</b>: ${escapeHtml(view.mismatch.problem)}</div>` : '';
  const verdict = shown
    ? `<div class="violation"><b>${escapeHtml(shown.kind)}</b>\n${escapeHtml(shown.message)}</div>`
    : view.boundedOut ? `<div class="violation"><b>bounded-out</b>: ${escapeHtml(view.boundedOut)}</div>` : '';
  const steps = columns.map((c) => `<li data-step="${c.index}"${c.index === n && shown && n > 0 ? ' class="bad"' : ''}><span>${c.index === 0 ? '·' : c.index}</span>${escapeHtml(c.step?.label ?? 'start')}</li>`).join('');

  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing may come from the network: no fetch, no image, no font, no script from elsewhere.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    `<title>kdefer · ${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style></head>`,
    `<body data-steps="${n}" data-step="0" data-step-width="${stepW}" data-design="${escapeHtml(p.design.name)}"${shown ? ` data-violation="${escapeHtml(shown.kind)}"` : ''}>`,
    `<header><h1>kdefer · ${escapeHtml(p.design.name)}${shown ? ` — <span class="kind">${escapeHtml(shown.kind)}</span>` : ''}</h1>`,
    `<div class="meta">${escapeHtml(meta)}${options.source ? ` · ${escapeHtml(options.source)}` : ''}</div>${verdict}${problem}</header>`,
    '<div class="legend"><span><i style="background:var(--task)"></i>task</span><span><i style="background:var(--softirq)"></i>softirq</span>' +
      '<span><i style="background:var(--ksoftirqd)"></i>ksoftirqd</span><span><i style="background:var(--hardirq)"></i>hardirq</span>' +
      '<span><i class="hatched"></i>spins or sleeps on a lock</span><span><i class="stuck"></i>stuck in the violation</span>' +
      '<span>▼ interrupt arrives</span><span>◆ softirqs run</span><span>○ timer tick</span><span>● ran the step</span>' +
      '<span><kbd>←</kbd> <kbd>→</kbd> step · <kbd>Home</kbd> <kbd>End</kbd></span></div>',
    `<div class="timeline"><div class="gutter">${gutter.join('')}</div><div class="scroll">${svg.join('')}</div></div>`,
    `<main><div class="panels">${columns.map((c) => panel(c, n)).join('')}</div><ol class="steps">${steps}</ol></main>`,
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
