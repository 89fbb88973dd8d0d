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
