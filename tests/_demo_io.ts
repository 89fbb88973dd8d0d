/**
 * @file What the demo tests share: an `Io` that keeps what a demo prints, so a test can
 * read its lines and errors (never interactive, no progress line).
 */
import type { Io } from "../demos/args.ts";

/** An `Io` that collects the lines a demo prints and the errors it reports. */
export function captureIo(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [], errors: string[] = [];
  return {
    lines,
    errors,
    interactive: false,
    out: (line) => lines.push(line),
    err: (line) => errors.push(line),
    progress: () => {},
  };
}
