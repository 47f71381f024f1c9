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
  });
});
