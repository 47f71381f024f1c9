/**
 * Saved counterexamples (counterexamples/*.json): every one replays to its
 * recorded violation, its design's fixed twin is verified, every buggy
 * catalogue design has one and it is minimal; the file format round-trips
 * and rejects corrupt, foreign, stale input with a message naming the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../model/designs/index.ts';
import {
  check, compile, CounterexampleError, findDesign, formatCounterexample, parseCounterexample, replayCounterexample,
  shortestViolation, VIOLATION_KINDS, type CounterexampleFile, type Design,
} from '../model/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'counterexamples');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
/**
 * States the shortest-schedule search may visit here. Over it the "is a
 * shortest schedule" check is skipped, clearly marked; npm run bench
 * (scripts/bench-tcp.ts) runs it in full. Replay is cheap and never skipped.
 */
const SHORTEST_BUDGET = 300_000;

async function designOf(cx: CounterexampleFile): Promise<Design> {
  const module = (await import(pathToFileURL(path.resolve(dir, cx.design.module)).href)) as Record<string, unknown>;
  const design = findDesign(module, cx.design.name) as Design | undefined;
  if (!design) throw new Error(`design ${cx.design.name} not found in ${cx.design.module}`);
  return design;
}

describe.each(files)('counterexamples/%s', (file) => {
  const cx = parseCounterexample(readFileSync(path.join(dir, file), 'utf8'), file);

  it('replays to its recorded violation, label by label', async () => {
    const result = replayCounterexample(cx, compile(await designOf(cx)));
    expect(result.status === 'stale' ? result.problem : 'reproduced').toBe('reproduced');
    if (result.status === 'reproduced') {
      expect(result.replay.violation!.kind).toBe(cx.violation.kind);
      expect(result.replay.violation!.message).toBe(cx.violation.message);
    }
  });

  it('is a shortest schedule to that kind of violation (BFS agrees on the length)', async (ctx) => {
    const bfs = shortestViolation(compile(await designOf(cx)), { kind: cx.violation.kind, maxStates: SHORTEST_BUDGET });
    if (bfs.status === 'bounded-out') ctx.skip(`SKIPPED over budget: the shortest-schedule search needs more than ${SHORTEST_BUDGET} states; npm run bench checks it`);
    expect(bfs.violation?.kind).toBe(cx.violation.kind);
    expect(cx.schedule.length).toBe(bfs.violation!.choices.length);
    expect(cx.minimizedFrom).toBeGreaterThanOrEqual(cx.schedule.length);
  });

  it("has a fixed twin that is verified", async () => {
    const design = await designOf(cx);
    const twin = CATALOGUE.find((d) => d.name === design.twin);
    if (!twin) return expect(design.twin).toBeUndefined();
    expect(check(twin).status).toBe('verified');
  });
});

describe('the saved set', () => {
  it('holds one counterexample for every buggy catalogue design', () => {
    const saved = new Set(files.map((f) => parseCounterexample(readFileSync(path.join(dir, f), 'utf8'), f).design.name));
    const buggy = CATALOGUE.filter((d) => d.expected !== undefined && d.expected !== 'verified').map((d) => d.name);
    expect(buggy.filter((n) => !saved.has(n))).toEqual([]);
  });
});

const sample = (): CounterexampleFile => parseCounterexample(readFileSync(path.join(dir, files[0]!), 'utf8'), files[0]!);

describe('the file format', () => {
  const label = fc.string({ maxLength: 40 });
  const file: fc.Arbitrary<CounterexampleFile> = fc.record({
    format: fc.constant('kdefer-counterexample' as const),
    version: fc.constant(1 as const),
    design: fc.record({ module: fc.string({ minLength: 1, maxLength: 30 }), name: fc.string({ minLength: 1, maxLength: 30 }), fingerprint: fc.stringMatching(/^[0-9a-f]{16}$/) }),
    profile: fc.constantFrom('modern', '2.4', '4.x-prequeue'),
    bounds: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 8 }))),
    schedule: fc.array(fc.record({ choice: fc.integer(), label }), { maxLength: 12 }),
    violation: fc.record({ kind: fc.constantFrom(...VIOLATION_KINDS), message: fc.string({ maxLength: 60 }) }),
    found: fc.oneof(
      fc.record({ explorer: fc.constant('random' as const), seed: fc.integer(), runs: fc.integer({ min: 1, max: 100000 }) }),
      fc.record({ explorer: fc.constant('exhaustive' as const) }),
    ),
    minimizedFrom: fc.nat(),
  });

  it('round-trips: parse(format(x)) equals x', () => {
    fc.assert(fc.property(file, (cx) => {
      expect(parseCounterexample(formatCounterexample(cx), 'x.json')).toEqual(cx);
    }), { seed: 7, numRuns: 200 });
  });

  it('rejects corrupt JSON, a foreign file, a wrong version and a schema violation, naming the file', () => {
    expect(() => parseCounterexample('{"format": ', 'a.json')).toThrow(/^a\.json: not valid JSON/);
    expect(() => parseCounterexample('{"hello": 1}', 'b.json')).toThrow(/^b\.json: not a kdefer counterexample/);
    expect(() => parseCounterexample(JSON.stringify({ ...sample(), version: 2 }), 'c.json')).toThrow(/^c\.json: format version 2 is not supported/);
    expect(() => parseCounterexample(JSON.stringify({ ...sample(), schedule: [{ choice: 'x', label: 'y' }] }), 'd.json'))
      .toThrow(CounterexampleError);
    expect(() => parseCounterexample(JSON.stringify({ ...sample(), violation: { kind: 'oops', message: '' } }), 'e.json'))
      .toThrow(/^e\.json: does not match the counterexample schema: \/violation\/kind/);
  });

  it('reports a changed step as stale, naming the first step that differs', async () => {
    const cx = sample();
    const design = await designOf(cx);
    const relabelled = { ...cx, schedule: cx.schedule.map((st, i) => (i === 1 ? { ...st, label: 'cpu9 [task gone]: nothing' } : st)) };
    const r = replayCounterexample(relabelled, compile(design));
    expect(r.status).toBe('stale');
    if (r.status === 'stale') {
      expect(r.step).toBe(2);
      expect(r.problem).toMatch(/^step 2 differs: expected 'cpu9 \[task gone\]: nothing', the model now says '/);
    }
  });

  it('reports a changed design as stale by its fingerprint', async () => {
    const cx = sample();
    const design = await designOf(cx);
    const changed = { ...design, cpus: design.cpus, vars: { ...(design.vars ?? {}), extra: 0 } };
    const r = replayCounterexample(cx, compile(changed));
    expect(r.status).toBe('stale');
    if (r.status === 'stale') expect(r.problem).toMatch(/changed since the counterexample was saved \(fingerprint [0-9a-f]{16} → [0-9a-f]{16}\)/);
  });
});
