/**
 * The counterexample store (model/explore/store.ts): a second check of a
 * design finds its file unchanged when the schedule and violation are the
 * same, even if the search met the bug another way (the file's `found` and
 * `minimizedFrom` record the run that saved it); another schedule of the
 * same kind is kept beside nothing, the old file kept as it is.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogueDesign } from '../../model/designs/index.ts';
import { checkProgram, compile, counterexampleOf, storeCounterexample } from '../../model/index.ts';
import { formatCounterexample } from '../../model/explore/counterexample.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'kdefer-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the counterexample store', () => {
  const p = compile(catalogueDesign('task-vs-hardirq-spin_lock')!);
  const cx = counterexampleOf(checkProgram(p), 'model/designs/index.ts');

  it('saves, then finds the same schedule unchanged whatever the record of how it was found; another schedule is kept out', () => {
    expect(storeCounterexample(dir, p, cx).action).toBe('saved');
    const files = readdirSync(dir);
    expect(files.length).toBe(1);
    const before = readFileSync(path.join(dir, files[0]!), 'utf8');
    expect(storeCounterexample(dir, p, cx).action).toBe('unchanged');
    // The same bug met after a longer first schedule: the same file.
    expect(storeCounterexample(dir, p, { ...cx, minimizedFrom: cx.minimizedFrom + 7 }).action).toBe('unchanged');
    // Another schedule of the same kind (the first step twice is not the bug's): the file kept as it is.
    const other = { ...cx, schedule: [cx.schedule[0]!, ...cx.schedule] };
    // It says how long the kept schedule is (this run's may be longer: shortened at less cost).
    expect(storeCounterexample(dir, p, other)).toMatchObject({ action: 'kept', keptSteps: cx.schedule.length });
    expect(readdirSync(dir)).toEqual(files);
    expect(readFileSync(path.join(dir, files[0]!), 'utf8')).toBe(before);
    // With update too, while the kept schedule is the shorter (fails if update replaces it whatever its length).
    expect(storeCounterexample(dir, p, other, { update: true })).toMatchObject({ action: 'kept', keptSteps: cx.schedule.length });
    expect(readFileSync(path.join(dir, files[0]!), 'utf8')).toBe(before);
  });

  it('with update, a shorter schedule replaces a longer one that still reproduces', () => {
    const sub = mkdtempSync(path.join(dir, 'update-'));
    // A bug the search meets at 30 steps whose shortest schedule has 3.
    const bug = compile(catalogueDesign('bench-irq_lock-buggy-n2-k2')!);
    const longer = counterexampleOf(checkProgram(bug, { shorten: 'none', lockdep: false }), 'model/designs/index.ts');
    const shortest = counterexampleOf(checkProgram(bug, { lockdep: false }), 'model/designs/index.ts');
    expect(shortest.schedule.length).toBeLessThan(longer.schedule.length);
    expect(storeCounterexample(sub, bug, longer).action).toBe('saved');
    expect(storeCounterexample(sub, bug, shortest)).toMatchObject({ action: 'kept', keptSteps: longer.schedule.length });
    const replaced = storeCounterexample(sub, bug, shortest, { update: true });
    expect(replaced.action).toBe('saved');
    expect(readdirSync(sub).length).toBe(1);
    expect(readFileSync(replaced.file!, 'utf8')).toBe(formatCounterexample(shortest));
  });
});
