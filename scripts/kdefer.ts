#!/usr/bin/env node
/**
 * The kdefer command line.
 *
 *   kdefer check <design-file>... [flags]    check designs, print the verdict table
 *   kdefer check --all [flags]               check the catalogue
 *   kdefer replay <counterexample> [flags]   re-run a saved schedule, print or draw it
 *   kdefer merge <result.json>...            combine the --json results of check --shard i/N
 *   kdefer list [design-file...]             the catalogue (or a file's designs), unchecked
 *   kdefer help [command]                    help, with examples
 *   kdefer --version
 *
 * Exit status: 0 every verdict as expected (replay: the counterexample
 * reproduces), 1 one is not (replay: stale), 2 bad input (flag, file,
 * design, counterexample) or an internal error of kdefer. Bad input is one
 * line on stderr; under --json it is also `{"error": {"message", "file"}}`
 * on stdout, and stdout never holds anything but JSON.
 *
 * The commands are entries of COMMANDS, and each flag is one entry of its
 * command's `flags`: the parser (commander), the help text and the value
 * check are all made from it. A command's code is imported only when it
 * runs, so `--version` and `help` load no model.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_AS_EXPECTED, EXIT_BAD_INPUT, UsageError } from './cli/errors.ts';
import { complain, print, reserveStdout } from './cli/output.ts';
import { packageVersion, staleBuildWarning } from './cli/package.ts';
import { parseSize } from '../model/explore/bytes.ts';

// ---------------------------------------------------------------- the table

/** One flag of a command. */
interface Flag {
  /** commander's syntax: `--json`, `--seed <n>`, `--no-save`, `--allow-module-path <dir>`. */
  readonly flags: string;
  /** One or two lines for --help; say the default. */
  readonly help: string;
  /** Reads the text given to the flag into its value; throws UsageError naming the flag. */
  readonly parse?: (text: string, previous: unknown) => unknown;
  /** Where a repeatable flag's values start (e.g. []). */
  readonly initial?: unknown;
}

/** One subcommand. */
interface Subcommand {
  readonly name: string;
  /** commander's syntax for the positional arguments: `[design-files...]`, `<counterexample>`. */
  readonly args: string;
  /** One line for `kdefer help`. */
  readonly summary: string;
  /** What it does, for `kdefer help <command>`. */
  readonly description: string;
  readonly flags: readonly Flag[];
  /** Command lines a user can copy, each with what it does. */
  readonly examples: readonly (readonly [string, string])[];
  /** What its exit statuses mean. */
  readonly exit: string;
  /** Runs it with the positionals (as `args` declares them) and the parsed flags; returns the exit status. */
  run(positionals: never, flags: never): Promise<number>;
}

/** A whole number ≥ `min` given to `--flag`. */
const wholeNumber = (flag: string, min: number) => (text: string): number => {
  const n = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${flag}: '${text}' is not a whole number ≥ ${min}`);
  return n;
};

/** A size in bytes given to --max-memory: 2G, 512M, 1.5GiB, 1073741824. */
function memorySize(text: string): number {
  const n = parseSize(text);
  if (n === null) throw new UsageError(`--max-memory: '${text}' is not a size (bytes, or a number with K, M, G or T, e.g. 2G, 512M)`);
  return n;
}

/** A fast-check seed: a 32-bit integer. */
function seedNumber(text: string): number {
  const n = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < -0x80000000 || n > 0xffffffff) throw new UsageError(`--seed: '${text}' is not a 32-bit integer`);
  return n | 0;
}

/** `i/N`, given to --shard: shard i of N, 0 ≤ i < N. */
function shardSpec(text: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count)) throw new UsageError(`--shard: '${text}' is not i/N (shard i of N, e.g. 0/4)`);
  if (count < 1) throw new UsageError(`--shard: '${text}': N must be at least 1`);
  if (index >= count) throw new UsageError(`--shard: '${text}': i counts from 0, so it must be below N (0/${count} … ${count - 1}/${count})`);
  return { index, count };
}

/** One of `names`, given to `--flag`. */
const oneOf = (flag: string, what: string, names: readonly string[]) => (text: string): string => {
  if (!names.includes(text)) throw new UsageError(`--${flag}: '${text}' is not ${what} (${names.join(', ')})`);
  return text;
};

/** A repeatable flag: each use adds one value. */
const collect = (text: string, previous: unknown): string[] => [...((previous as string[] | undefined) ?? []), text];

/** The --json flag every command has: stdout holds one JSON document and nothing else. */
const JSON_FLAG = (what: string): Flag => ({
  flags: '--json',
  help: `${what}; bad input is {"error": {"message", "file"}} (exit 2); a design's own console output goes to stderr`,
});

const COMMANDS: readonly Subcommand[] = [
  {
    name: 'check',
    args: '[design-files...]',
    summary: 'check design files, or the catalogue with --all, or a peer suite with --suite',
    description:
      'Checks every design a file exports (a design, or an array of designs), or with --all the catalogue (kdefer list), and prints a verdict table: for each design the bounds it was explored within, the verdict it claims and the one it got; for each violation its report and its schedule, saved as a counterexample file that `kdefer replay` re-runs; under each design lockdep\'s prediction, each problem lockdep would report settled: confirmed by a schedule, not reachable within the bounds (a lockdep false positive there, with the reason) or not decided. With --suite lockdep it runs lockdep\'s own self-tests instead.',
    flags: [
      { flags: '--all', help: 'check the catalogue (model/designs)' },
      JSON_FLAG('one JSON array, one object per design, instead of the table'),
      {
        flags: '--explorer <name>',
        help: 'exhaustive (default): every schedule within the bounds, proves or refutes; random: sampled schedules, shrunk to a minimal counterexample, proves nothing',
        parse: oneOf('explorer', 'an explorer', ['exhaustive', 'random']),
      },
      { flags: '--seed <n>', help: 'random: the seed (default: a fresh one, printed so the run can be repeated)', parse: seedNumber },
      { flags: '--runs <n>', help: 'random: schedules per design (default 1000)', parse: wholeNumber('runs', 1) },
      {
        flags: '--strategy <name>',
        help: 'random: how runs pick their schedules: uniform, pct, swarm, guided or mix (default mix; README, random search)',
        parse: oneOf('strategy', 'a strategy', ['uniform', 'pct', 'swarm', 'guided', 'mix']),
      },
      { flags: '--depth <d>', help: 'random, pct and mix: PCT\'s bug depth, d − 1 priority change points per run (default 5, at most 10)', parse: wholeNumber('depth', 1) },
      {
        flags: '--workers <n>',
        help: 'worker threads (exhaustive: default the cores; random: default 1). exhaustive: a search beyond 10000 states goes on in n threads that share one visited set, with the verdict of --workers 1 (a violation is found again in one thread, so its schedule is the same); random: each design\'s runs spread over n threads, with the same verdict, run and path',
        parse: wholeNumber('workers', 1),
      },
      {
        flags: '--max-states <n>',
        help: 'exhaustive: distinct states before giving up as bounded-out (default 5000000)',
        parse: wholeNumber('max-states', 1),
      },
      {
        flags: '--max-memory <size>',
        help: 'exhaustive: memory the process may hold before giving up as bounded-out, in bytes or with K, M, G (e.g. 2G, 512M); default a quarter of this machine\'s memory, at most 4G. Shortening a violation\'s schedule holds at most the lesser of this and 1G, then falls back to ddmin',
        parse: memorySize,
      },
      { flags: '--no-por', help: 'exhaustive: switch off partial-order reduction (the verdict\'s reductions line says what each reduction removed)' },
      { flags: '--no-symmetry', help: 'exhaustive: switch off symmetry reduction over interchangeable CPUs' },
      { flags: '--no-fusion', help: 'exhaustive: switch off fusion of private steps and forced chains (every state is stored)' },
      {
        flags: '--shorten <how>',
        help: 'how a violation\'s schedule is shortened: auto (the default: a shortest one, by a breadth-first search within the found length, the memory bound and 10× the steps of the search that found it (at least 2M steps), else ddmin\'s; ddmin with the random explorer), bfs (the same search without the cost bound), ddmin (a 1-minimal one by delta debugging: cheap, may be longer; the random explorer\'s only way) or none (as found)',
        parse: oneOf('shorten', 'a way to shorten', ['auto', 'bfs', 'ddmin', 'none']),
      },
      {
        flags: '--shard <i/N>',
        help: 'exhaustive: search only shard i of N (0 ≤ i < N) of a deterministic partition by schedule prefix, in one thread; run all N (a CI matrix, an indexed Job) with --json and combine them with kdefer merge',
        parse: shardSpec,
      },
      { flags: '--save-dir <dir>', help: 'where to save a counterexample file per violation (default ./counterexamples); never overwrites a file' },
      { flags: '--no-save', help: 'save no counterexample file' },
      {
        flags: '--update',
        help: 'replace the design\'s stale counterexamples (ones that no longer reproduce) and kept ones with this run\'s; without it, stale files are reported and nothing is deleted',
      },
      {
        flags: '--grow [n]',
        help: 'then re-check each verified design with one bound raised at a time, by 1 up to n (default 1): cpus (copying tasks marked replicable), each irq budget, ticks, loop bounds, preempt none → full; report every verdict that flips (a flip on a bound the design declares in `assumes` as assumed); --max-states caps each variant; flips are not saved',
        parse: wholeNumber('grow', 1),
      },
      {
        flags: '--no-lockdep',
        help: 'skip lockdep\'s prediction: no lockdep lines under the verdicts, and after a violation no sweep of the rest of the states for it (on a large design the sweep may take as long as a proof)',
      },
      {
        flags: '--lockdep-report',
        help: 'print lockdep\'s whole report (the kernel\'s format) under each problem lockdep predicts; with --json, add it as `report` to each `lockdep` entry (without the flag the entries carry status, title, classes, reason and schedule only)',
      },
      {
        flags: '--suite <name>',
        help: 'instead of designs, run a peer suite: lockdep (every in-scope test of the kernel\'s lib/locking-selftest.c, 278 cases), printing for each case lockdep\'s expected result, kdefer\'s prediction and what the search confirmed; exit 0 if every case agrees',
        parse: oneOf('suite', 'a suite', ['lockdep']),
      },
      { flags: '--filter <text>', help: 'with --suite: only the cases whose type and label (`spin A-B-B-A deadlock`) or design name contain <text>' },
    ],
    examples: [
      ['kdefer check --all', 'the whole catalogue, exhaustively'],
      ['kdefer check eth-stats.ts', 'every design eth-stats.ts exports'],
      ['kdefer check eth-stats.ts --json | jq \'.[].status\'', 'the verdicts as JSON'],
      ['kdefer check eth-stats.ts --explorer random --runs 5000 --seed 7', 'sample 5000 schedules, repeatably'],
      ['kdefer check big.ts --explorer random --strategy pct --depth 3 --workers 2', 'PCT runs with 2 change points each, on two threads'],
      ['kdefer check eth-stats.ts --update', 'after editing the design: replace its stale counterexample'],
      ['kdefer check --all --grow', 'how far each proof reaches: every bound of every verified design raised by one'],
      ['kdefer check eth-stats.ts --workers 1', 'in one thread'],
      ['kdefer check eth-stats.ts --shard 2/8 --json > shard-2.json', 'shard 2 of 8 (e.g. one job of a CI matrix); kdefer merge shard-*.json gives the verdict'],
      ['kdefer check --suite lockdep', 'lockdep\'s own self-tests: kdefer\'s prediction and search against lockdep\'s expected result, case by case'],
      ['kdefer check --suite lockdep --filter A-B-B-A --json', 'the ABBA cases only, as {cases, totals}'],
    ],
    exit: '0 every verdict as expected (with --grow: and no flip but assumed ones; with --suite: every case agrees with lockdep), 1 some verdict not as expected (or a flip, or a case that disagrees), 2 bad input or an internal error',
    run: async (files: readonly string[], flags: import('./cli/check.ts').CheckFlags) => (await import('./cli/check.ts')).runCheck(files, flags),
  },
  {
    name: 'replay',
    args: '<counterexample>',
    summary: 'replay a saved counterexample; print its trace or draw it',
    description:
      'Re-runs a saved counterexample\'s schedule on its design, checking each step\'s label against the model, and prints the trace: one column per CPU with each context frame, the locks held and the irq/bh state, then the violation in lockdep\'s own report format where lockdep has one. A file whose design or model has changed is reported stale, naming the first step that differs. Replaying imports the design module the file names, and importing runs its code: replay loads it only from inside this project (the nearest folder with a package.json), the counterexample\'s own folder, or a folder given with --allow-module-path.',
    flags: [
      JSON_FLAG('one JSON object: {file, design, status, step, problem, violation, trace}'),
      {
        flags: '--perfetto <file>',
        help: 'also write a Chrome/Perfetto trace-event file (open it in ui.perfetto.dev): a track per CPU with nested context slices, lock holds as slices; never overwrites a file',
      },
      {
        flags: '--html <file>',
        help: 'also write the schedule as a picture: a self-contained HTML page, one lane per CPU with its context frames stacked, lock holds as bars, interrupts and softirq run points marked, the violation highlighted; step with ← and →; never overwrites a file',
      },
      {
        flags: '--allow-module-path <dir>',
        help: 'also load the design module from inside <dir> (repeatable); only for code you trust',
        parse: collect,
        initial: [],
      },
    ],
    examples: [
      ['kdefer replay counterexamples/eth-stats.deadlock.json', 'the trace, per CPU, and lockdep\'s report'],
      ['kdefer replay counterexamples/eth-stats.deadlock.json --html eth-stats.html', 'also a picture of the schedule, to open in a browser'],
      ['kdefer replay counterexamples/eth-stats.deadlock.json --perfetto eth.json', 'also a trace for ui.perfetto.dev'],
      ['kdefer replay ~/bug-report/x.json --allow-module-path ~/bug-report/src', 'a design module outside this project'],
    ],
    exit: '0 the counterexample reproduces its violation, 1 it is stale, 2 bad input (unreadable or corrupt file, design module missing or not allowed) or an internal error',
    run: async (file: string, flags: import('./cli/replay.ts').ReplayFlags) => (await import('./cli/replay.ts')).runReplay(file, flags),
  },
  {
    name: 'merge',
    args: '<result-files...>',
    summary: 'combine the --json results of check --shard i/N into one verdict per design',
    description:
      'Reads the --json results of `kdefer check --shard i/N` (one file per shard, any order) and prints one verdict per design: a violation if any shard found one (the shortest schedule, then the smallest shard index), bounded-out if none did and a shard was bounded-out (naming the bound and the shard), verified only if all N shards are there and verified. It refuses shards of different designs, bounds, kdefer versions or shard counts, a shard given twice, and missing shards, naming them. It writes no file.',
    flags: [JSON_FLAG('one JSON array, one merged verdict per design (check --json\'s keys, with `merged`: shard count, partition, files)')],
    examples: [
      ['for i in 0 1 2 3; do kdefer check eth-stats.ts --shard $i/4 --json > shard-$i.json; done', 'four shards (run them anywhere, in any order)'],
      ['kdefer merge shard-*.json', 'their verdict'],
    ],
    exit: '0 every merged verdict as expected, 1 some verdict not as expected, 2 bad input (unreadable file, not a shard result, shards that do not belong together, a shard missing or given twice) or an internal error',
    run: async (files: readonly string[], flags: import('./cli/merge.ts').MergeFlags) => (await import('./cli/merge.ts')).runMerge(files, flags),
  },
  {
    name: 'list',
    args: '[design-files...]',
    summary: 'list the catalogue (or a file\'s designs) without checking them',
    description:
      'Lists the designs of the catalogue, or of the design files given, with the verdict each claims, the profile and bounds it is explored within, and the first sentence of its description. Nothing is checked.',
    flags: [JSON_FLAG('one JSON array: {design, expected, profile, bounds, boundsText, twin, description}')],
    examples: [
      ['kdefer list', 'the catalogue'],
      ['kdefer list --json | jq -r \'.[] | select(.expected == "deadlock") | .design\'', 'the catalogue\'s deadlocks'],
      ['kdefer list eth-stats.ts', 'the designs a file exports'],
    ],
    exit: '0 listed, 2 bad input or an internal error',
    run: async (files: readonly string[], flags: import('./cli/list.ts').ListFlags) => (await import('./cli/list.ts')).runList(files, flags),
  },
];

// ---------------------------------------------------------------- the parser

/** The help text after a command's flags: its examples and exit statuses. */
function epilogue(c: Subcommand): string {
  return [
    '',
    'Examples:',
    ...c.examples.flatMap(([line, what], i) => [...(i > 0 ? [''] : []), `  # ${what}`, `  ${line}`]),
    '',
    'Exit status:',
    ...c.exit.split('\n').map((l) => `  ${l}`),
  ].join('\n');
}

/** What running one command line produced: the command's exit status. */
interface Outcome {
  status: number;
}

/** The commander program for one run, made from COMMANDS. */
function program(outcome: Outcome): Command {
  const root = new Command('kdefer')
    .description('kdefer: model checking of Linux kernel deferred work (hard irqs, softirqs, tasklets, timers, work queues and their locks)')
    .usage('<command> [flags]')
    .version(packageVersion(), '-V, --version', 'print kdefer\'s version')
    .helpOption('-h, --help', 'this text')
    .helpCommand('help [command]', 'this text, or a command\'s, with examples')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      // Errors are thrown (exitOverride) and reported by main, in one line.
      outputError: () => {},
    })
    .addHelpText('after', '\nkdefer help <command> shows its flags and examples.');
  for (const c of COMMANDS) {
    const sub = root.command(c.name)
      .argument(c.args)
      .summary(c.summary)
      .description(c.description)
      .helpOption('-h, --help', 'this text')
      .allowExcessArguments(false)
      .addHelpText('after', epilogue(c));
    for (const f of c.flags) {
      const option = new Option(f.flags, f.help);
      if (f.parse) option.argParser(f.parse);
      sub.addOption(option);
    }
    sub.action(async (positionals: unknown, flags: Record<string, unknown>) => {
      // Repeatable flags start from their `initial` value (not commander's default, which --help would print).
      for (const f of c.flags) {
        const key = new Option(f.flags).attributeName();
        if (f.initial !== undefined && flags[key] === undefined) flags[key] = f.initial;
      }
      outcome.status = await c.run(positionals as never, flags as never);
    });
  }
  return root;
}

/** commander's parse errors, in kdefer's one-line wording. */
function usageOf(e: CommanderError, args: readonly string[]): UsageError {
  const command = COMMANDS.find((c) => c.name === args[0]);
  const helpFor = command ? `kdefer help ${command.name}` : 'kdefer help';
  const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
  const hint = /\(Did you mean ([^?]+)\?\)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'commander.unknownOption': {
      const [name, value] = quoted.split('=', 2);
      const flag = command?.flags.find((f) => f.flags.split(/[ ,]+/).includes(name!));
      if (value !== undefined && flag && !flag.flags.includes('<')) return new UsageError(`${name} takes no value`);
      return new UsageError(`unknown flag ${quoted}${hint ? ` (did you mean ${hint}?)` : ''} (${helpFor} lists the flags)`);
    }
    case 'commander.optionMissingArgument':
      return new UsageError(`${/--[\w-]+/.exec(e.message)?.[0] ?? quoted} needs a value`);
    case 'commander.unknownCommand':
      return new UsageError(`unknown command '${quoted}' (commands: ${COMMANDS.map((c) => c.name).join(', ')}, help)`);
    case 'commander.missingArgument':
      return new UsageError(`${args[0]} needs ${command?.args.replace(/[<>]/g, '') === 'counterexample' ? 'exactly one counterexample file' : `its ${quoted}`} (${helpFor})`);
    case 'commander.excessArguments':
      return new UsageError(`${args[0]} takes ${command?.args.replace(/[<>]/g, '') === 'counterexample' ? 'exactly one counterexample file' : 'fewer arguments'} (${helpFor})`);
    default:
      return new UsageError(e.message.replace(/^error:\s*/, '').split('\n')[0]!);
  }
}

/**
 * `--grow` without a number means `--grow 1`: commander would take the
 * next argument (a design file) as the optional value.
 */
function withGrowDefault(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  return args.map((a, i) => (a === '--grow' && (end === -1 || i < end) && !/^\d+$/.test(args[i + 1] ?? '') ? '--grow=1' : a));
}

/** Whether the command line asks for JSON: `--json` before any `--`. */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** The one-line message and file of anything thrown, and whether it is the user's doing. */
function problemOf(e: unknown, args: readonly string[]): { message: string; file: string | null; internal: boolean } {
  if (e instanceof CommanderError) e = usageOf(e, args);
  if (e instanceof UsageError) return { message: e.message, file: e.file, internal: false };
  if (e instanceof Error && e.message.startsWith('kdefer limit:')) {
    // A design beyond what the model can represent (e.g. too many nested read locks): bad input, not a crash.
    return { message: e.message.split('\n')[0]!, file: null, internal: false };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { message: `kdefer internal error: ${message.replace(/^kdefer internal error:\s*/, '').split('\n')[0]}`, file: null, internal: true };
}

/** Run the command line `args` (without node and script); returns the exit status. */
export async function main(args: readonly string[]): Promise<number> {
  const json = wantsJson(args);
  if (json) reserveStdout();
  const outcome: Outcome = { status: EXIT_AS_EXPECTED };
  try {
    const stale = await staleBuildWarning();
    if (stale) complain(`warning: ${stale}`);
    const cli = program(outcome);
    if (args.length === 0) {
      cli.outputHelp();
      return EXIT_AS_EXPECTED;
    }
    if (args[0] === 'help' && args[1] !== undefined && !COMMANDS.some((c) => c.name === args[1])) {
      throw new UsageError(`help: unknown command '${args[1]}' (commands: ${COMMANDS.map((c) => c.name).join(', ')}, help)`);
    }
    await cli.parseAsync(withGrowDefault(args), { from: 'user' });
    return outcome.status;
  } catch (e) {
    if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')) {
      return EXIT_AS_EXPECTED;
    }
    const problem = problemOf(e, args);
    process.stderr.write(problem.internal ? `${problem.message}\n` : `kdefer: ${problem.message}\n`);
    if (problem.internal && process.env.KDEFER_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    if (json) print(JSON.stringify({ error: { message: problem.message, file: problem.file } }));
    return EXIT_BAD_INPUT;
  }
}

process.exitCode = await main(process.argv.slice(2));
