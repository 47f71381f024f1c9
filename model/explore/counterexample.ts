/**
 * Counterexample files: a violation's schedule, saved as versioned JSON so
 * it replays forever (counterexamples/*.json; `kdefer replay`; npm test).
 *
 * A file names its design by module (a path relative to the file itself,
 * so the repository can move) and design name, with the design's
 * fingerprint; it holds the kernel profile and bounds, the choice list with
 * each choice's label, the violation, and how it was found. Nothing in it
 * depends on the machine. Its schema is checked on load by ajv.
 */
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import { VIOLATION_KINDS, type ViolationKind } from '../check/violation.ts';
import type { Program } from '../kernel/program.ts';
import { CHOICE_SOURCES } from '../kernel/registry.ts';
import { choiceCpu, choiceKind } from '../kernel/semantics.ts';
import { STRATEGIES, type StrategyName } from './random.ts';
import { replay, type Replay } from './replay.ts';

export const COUNTEREXAMPLE_FORMAT = 'kdefer-counterexample';
export const COUNTEREXAMPLE_VERSION = 1;

export interface CounterexampleFile {
  readonly format: typeof COUNTEREXAMPLE_FORMAT;
  readonly version: typeof COUNTEREXAMPLE_VERSION;
  readonly design: {
    /** Module exporting the design, relative to this file's folder. */
    readonly module: string;
    readonly name: string;
    readonly fingerprint: string;
  };
  readonly profile: string;
  readonly bounds: Readonly<Record<string, unknown>>;
  readonly schedule: readonly { readonly choice: number; readonly label: string }[];
  readonly violation: { readonly kind: ViolationKind; readonly message: string };
  readonly found:
    | {
      readonly explorer: 'random';
      readonly seed: number;
      readonly runs: number;
      /** Since issue 13 (absent in older files: uniform): the search's strategy, PCT depth, first violating run (1-based) and fast-check path. */
      readonly strategy?: StrategyName;
      readonly depth?: number;
      readonly run?: number;
      readonly path?: string;
    }
    | { readonly explorer: 'exhaustive' };
  /** Schedule length before minimisation. */
  readonly minimizedFrom: number;
}

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'version', 'design', 'profile', 'bounds', 'schedule', 'violation', 'found', 'minimizedFrom'],
  properties: {
    format: { const: COUNTEREXAMPLE_FORMAT },
    version: { const: COUNTEREXAMPLE_VERSION },
    design: {
      type: 'object',
      additionalProperties: false,
      required: ['module', 'name', 'fingerprint'],
      properties: {
        module: { type: 'string', minLength: 1 },
        name: { type: 'string', minLength: 1 },
        fingerprint: { type: 'string', pattern: '^[0-9a-f]{16}$' },
      },
    },
    profile: { type: 'string', minLength: 1 },
    bounds: { type: 'object' },
    schedule: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['choice', 'label'],
        properties: { choice: { type: 'integer' }, label: { type: 'string' } },
      },
    },
    violation: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'message'],
      properties: { kind: { enum: [...VIOLATION_KINDS] }, message: { type: 'string' } },
    },
    found: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['explorer', 'seed', 'runs'],
          properties: {
            explorer: { const: 'random' }, seed: { type: 'integer' }, runs: { type: 'integer', minimum: 1 },
            strategy: { enum: [...STRATEGIES] },
            depth: { type: 'integer', minimum: 1 },
            run: { type: 'integer', minimum: 1 },
            path: { type: 'string', pattern: '^[0-9]+(:[0-9]+)*$' },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['explorer'],
          properties: { explorer: { const: 'exhaustive' } },
        },
      ],
    },
    minimizedFrom: { type: 'integer', minimum: 0 },
  },
} as const;

let validator: ValidateFunction<CounterexampleFile> | null = null;

/**
 * The schema's validator, made when the first file is read: loading ajv and
 * compiling the schema is most of what importing kdefer would otherwise
 * cost, and a run that reads no counterexample (check --no-save, list)
 * never needs it. ajv is CommonJS, so it loads synchronously here.
 */
function validate(data: unknown): data is CounterexampleFile {
  if (!validator) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
    validator = new Ajv({ allErrors: false, strict: true }).compile<CounterexampleFile>(SCHEMA);
  }
  return validator(data);
}

/** A counterexample file that cannot be used: corrupt, wrong version, design missing, stale. */
export class CounterexampleError extends Error {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'CounterexampleError';
    this.file = file;
  }
}

/** Parse and validate a counterexample's text; throws CounterexampleError naming the problem. */
export function parseCounterexample(text: string, file: string): CounterexampleFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new CounterexampleError(file, `not valid JSON (${(e as Error).message})`);
  }
  const obj = data as { format?: unknown; version?: unknown };
  if (typeof data !== 'object' || data === null || obj.format !== COUNTEREXAMPLE_FORMAT) {
    throw new CounterexampleError(file, `not a kdefer counterexample (format must be '${COUNTEREXAMPLE_FORMAT}')`);
  }
  if (obj.version !== COUNTEREXAMPLE_VERSION) {
    throw new CounterexampleError(file, `format version ${JSON.stringify(obj.version)} is not supported (this kdefer reads version ${COUNTEREXAMPLE_VERSION})`);
  }
  if (!validate(data)) {
    const e = validator!.errors?.[0];
    throw new CounterexampleError(file, `does not match the counterexample schema: ${e?.instancePath || '(top)'} ${e?.message ?? 'is invalid'}`);
  }
  return data;
}

/** Serialise with a stable key order and a trailing newline. */
export function formatCounterexample(cx: CounterexampleFile): string {
  return `${JSON.stringify(cx, null, 2)}\n`;
}

/**
 * Reject choices no model could take on this design: a CPU it does not
 * have, an event kind the model does not know. (A choice in range that is
 * not enabled where it is taken is a stale file, not a corrupt one.)
 */
export function checkChoicesInRange(cx: CounterexampleFile, p: Program, file: string): void {
  cx.schedule.forEach(({ choice }, i) => {
    const cpu = choiceCpu(choice);
    const kind = choiceKind(choice);
    if (cpu >= p.ncpu) throw new CounterexampleError(file, `step ${i + 1}: choice ${choice} is out of range: it names cpu${cpu}, but design '${cx.design.name}' has ${p.ncpu} CPU${p.ncpu === 1 ? '' : 's'}`);
    if (kind > CHOICE_SOURCES.length) throw new CounterexampleError(file, `step ${i + 1}: choice ${choice} is out of range: event kind ${kind} does not exist`);
  });
}

/** The outcome of replaying a counterexample against the current model. */
export type CounterexampleReplay =
  | { readonly status: 'reproduced'; readonly replay: Replay }
  | { readonly status: 'stale'; readonly step: number | null; readonly problem: string; readonly replay: Replay | null };

/** Replay a counterexample on its (already loaded and compiled) design. */
export function replayCounterexample(cx: CounterexampleFile, p: Program): CounterexampleReplay {
  if (p.fingerprint !== cx.design.fingerprint) {
    return { status: 'stale', step: null, problem: `design '${cx.design.name}' changed since the counterexample was saved (fingerprint ${cx.design.fingerprint} → ${p.fingerprint})`, replay: null };
  }
  const r = replay(p, cx.schedule.map((st) => st.choice), cx.schedule.map((st) => st.label));
  if (r.mismatch) {
    return { status: 'stale', step: r.mismatch.step + 1, problem: `step ${r.mismatch.step + 1} differs: ${r.mismatch.problem}`, replay: r };
  }
  if (r.violation?.kind !== cx.violation.kind) {
    const got = r.violation ? `a ${r.violation.kind}` : 'no violation';
    return { status: 'stale', step: cx.schedule.length, problem: `the schedule now ends in ${got}, not the recorded ${cx.violation.kind}`, replay: r };
  }
  return { status: 'reproduced', replay: r };
}

/** Find the design named `name` among a module's exports (designs or arrays of designs). */
export function findDesign(exports: Record<string, unknown>, name: string): unknown {
  const seen = [...Object.values(exports), ...(typeof exports.default === 'object' && exports.default !== null ? Object.values(exports.default as object) : [])];
  for (const value of seen) {
    const candidates = Array.isArray(value) ? value : [value];
    for (const c of candidates) {
      if (typeof c === 'object' && c !== null && (c as { name?: unknown }).name === name && Array.isArray((c as { tasks?: unknown }).tasks)) return c;
    }
  }
  return undefined;
}
