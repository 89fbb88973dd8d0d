/**
 * @file A demo's command line from start to end, the same for every `deno task demo:*`:
 * parse the options, answer `--help`, check the output directory — all before any work —
 * then run; what is thrown becomes the demos' messages and exit statuses.
 */
import { DemoFailure, EXIT, type Io, UsageError } from "./args.ts";
import { checkOutputDirectory } from "./_output.ts";

/** A demo, as {@linkcode demoMain} runs it. */
export interface Demo<Options extends { readonly out: string }> {
  /** Its name, as in `deno task demo:NAME`. */
  readonly name: string;
  /** Its `--help` text. */
  readonly help: string;
  /** Parses and checks the command line (throws a {@linkcode UsageError}). */
  parse(args: string[]): Options | "help";
  /** Does the work; returns the exit status. */
  run(options: Options, io: Io): Promise<number>;
}

/**
 * Runs `demo` with command-line `args`: a {@linkcode UsageError} is printed as
 * `demo:NAME: <message>` with a hint to `--help` (exit 2), a {@linkcode DemoFailure} as
 * its message (exit 1), anything else with its stack (exit 1).
 *
 * @returns The exit status.
 */
export async function demoMain<Options extends { readonly out: string }>(
  demo: Demo<Options>,
  args: string[],
  io: Io,
): Promise<number> {
  try {
    const options = demo.parse(args);
    if (options === "help") {
      io.out(demo.help);
      return EXIT.ok;
    }
    await checkOutputDirectory(options.out);
    return await demo.run(options, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`demo:${demo.name}: ${error.message}`);
      io.err(`Run "deno task demo:${demo.name} --help" for the options.`);
      return EXIT.usage;
    }
    if (error instanceof DemoFailure) {
      io.err(`demo:${demo.name}: ${error.message}`);
      return EXIT.failure;
    }
    io.err(`demo:${demo.name}: ${error instanceof Error ? error.stack : error}`);
    return EXIT.failure;
  }
}
