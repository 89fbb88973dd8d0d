/**
 * @file Command-line options for the demos: `--name value`, `--name=value` and boolean
 * flags, nothing else. Anything unknown, repeated, or missing its value is a
 * {@linkcode UsageError} that says which option and what it accepts.
 */

/** A bad command line; the message names the option. */
export class UsageError extends Error {}

/**
 * Parses `args` against the named options: those in `values` take a value, those in
 * `flags` take none.
 *
 * @returns The values given (absent options are missing from the record) and the flags set.
 */
export function parseOptions(
  args: readonly string[],
  values: readonly string[],
  flags: readonly string[],
): { values: Record<string, string>; flags: Set<string> } {
  const given: Record<string, string> = {};
  const set = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const match = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(args[i]);
    if (!match) throw new UsageError(`unexpected argument "${args[i]}"; options start with --`);
    const [, name, inline] = match;
    if (flags.includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name}: takes no value, got "${inline}"`);
      set.add(name);
    } else if (values.includes(name)) {
      const value = inline ?? args[++i];
      // "--p --out x" is a missing value, not p = "--out".
      if (value === undefined || (inline === undefined && value.startsWith("--"))) {
        throw new UsageError(`--${name}: expected a value`);
      }
      if (name in given) throw new UsageError(`--${name}: given twice`);
      given[name] = value;
    } else {
      throw new UsageError(
        `unknown option --${name}; the options are ${
          [...values, ...flags].map((o) => `--${o}`).join(", ")
        }`,
      );
    }
  }
  return { values: given, flags: set };
}

/**
 * Reads an integer option.
 *
 * @param option The option's name, for the message.
 * @param text What was given.
 * @param min The smallest value accepted.
 * @param max The largest value accepted.
 * @throws {UsageError} When `text` is not a whole number in [min, max].
 */
export function integerOption(
  option: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = Number(text);
  if (!/^\s*[-+]?\d+\s*$/.test(text) || value < min || value > max) {
    throw new UsageError(`--${option}: expected an integer in [${min}, ${max}], got "${text}"`);
  }
  return value;
}

/** Where a demo writes: standard output and error. */
export interface Io {
  /** A line of progress, results or help. */
  out(line: string): void;
  /** A line about a problem. */
  err(line: string): void;
  /** Whether progress can rewrite its line (a terminal). */
  readonly interactive: boolean;
  /** Rewrites the current line with progress (used when interactive). */
  progress(line: string): void;
}

const interactive = Deno.stdout.isTerminal();

/** The console: progress rewrites its line on a terminal. */
export const consoleIo: Io = {
  out: (line) => console.log(interactive ? `\r\x1b[2K${line}` : line),
  err: (line) => console.error(line),
  interactive,
  progress: (line) => Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${line}`)),
};
