/**
 * Every write into the state vector from kernel mechanism code goes through
 * Machine.w(), which logs it for undo and folds it into the fingerprint.
 * A direct `s[i] = v` would be invisible to both: the exhaustive search
 * would undo a step wrongly and hash a state it never saw. This test reads
 * model/kernel/*.ts and fails on any direct write; then it steps every
 * catalogue design and checks that the incremental fingerprint equals the
 * one computed from scratch, and that undo restores the state exactly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../model/designs/index.ts';
import { compile } from '../../model/dsl/compile.ts';
import { Machine } from '../../model/kernel/machine.ts';
import { fingerprintOf } from '../../model/kernel/zobrist.ts';
import { H_BOUND_HIT, H_VIOL_KIND } from '../../model/kernel/layout.ts';

const kernelDir = fileURLToPath(new URL('../../model/kernel/', import.meta.url));

/** Direct writes: `s[...] = `, `m.s[...] = `, compound forms, and the mutating typed-array methods on the state. */
const DIRECT_WRITE = /(?<![\w.])(?:m\.|this\.)?s\[[^\n;]*\]!?\s*(?:[-+*/|&^]|<<|>>>?)?=(?!=)|(?<![\w.])(?:m\.|this\.)?s\[[^\n;]*\]!?\s*(?:\+\+|--)|(?<![\w.])(?:m\.|this\.)?s\.(?:fill|copyWithin|set|sort|reverse)\(/;

describe('writes to the state', () => {
  const files = readdirSync(kernelDir).filter((f) => f.endsWith('.ts'));
  it.each(files)('model/kernel/%s writes the state only through m.w()', (file) => {
    const lines = readFileSync(path.join(kernelDir, file), 'utf8').split('\n');
    const offending = lines
      .map((text, i) => ({ line: i + 1, text: text.trim() }))
      .filter(({ text }) => !text.startsWith('//') && !text.startsWith('*') && DIRECT_WRITE.test(text));
    expect(offending).toEqual([]);
  });

  it('the incremental fingerprint equals the full one, and undo restores every state exactly (every catalogue design, 300 random steps)', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const h = new Uint32Array(2);
    for (const d of CATALOGUE) {
      const m = new Machine(compile(d));
      m.initial();
      for (let run = 0; run < 3; run++) {
        m.load(m.initial());
        for (let step = 0; step < 100; step++) {
          const s = m.s;
          if (s[H_VIOL_KIND] !== 0 || s[H_BOUND_HIT] !== 0) break;
          const en = m.enabled(s);
          if (en.length === 0) break;
          const before = s.slice();
          const [lo, hi, mark] = [m.hLo, m.hHi, m.logLen];
          const choice = en[rand(en.length)]!;
          m.stepInPlace(choice);
          fingerprintOf(m.s, h);
          expect([m.hLo >>> 0, m.hHi >>> 0], `${d.name} step ${step}`).toEqual([h[0], h[1]]);
          // Undo, check, redo (the search does exactly this for every sibling).
          m.undoTo(mark, lo, hi);
          expect(m.s, `${d.name} undo of step ${step}`).toEqual(before);
          m.stepInPlace(choice);
        }
      }
    }
  });
});
