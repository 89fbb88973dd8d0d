/**
 * @file Command-line options of the bench programs: `--reps N`, `--only name,name`
 * (ops of the catalogue, and a program's own extra comparisons), `--out DIR`. A bad
 * option exits with status 2 and a message naming the option and what it accepts.
 */
import { BENCH_OPS } from "./_cases.ts";

/** Parsed options. */
export interface BenchOptions {
  /** Timed repetitions per measurement (the median is reported). */
  readonly reps: number;
  /** Ops (and extras) to run; all of {@linkcode BENCH_OPS} and the extras when not given. */
  readonly only: ReadonlySet<string>;
  /** Folder the JSON and Markdown results are written to. */
  readonly out: string;
}

/**
 * Parses `args`, or prints the problem and exits with status 2.
 *
 * @param args The command line.
 * @param program The program's name, for messages.
 * @param extras Names `--only` accepts besides the ops (e.g. `decay`).
 */
export function parseBenchArgs(
  args: readonly string[],
  program: string,
  extras: readonly string[] = [],
): BenchOptions {
  const ops = [...new Set(BENCH_OPS.map((c) => c.op)), ...extras];
  const fail = (message: string): never => {
    console.error(
      `${program}: ${message}\nusage: ${program} [--reps N (1–50, default 5)] ` +
        `[--only ${ops.join(",")}] [--out DIR (default bench/results)]`,
    );
    Deno.exit(2);
  };
  let reps = 5, out = "bench/results";
  let only = new Set(ops);
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => inline ?? args[++i] ?? fail(`${flag} needs a value`);
    if (flag === "--reps") {
      const text = value();
      reps = Number(text);
      if (!Number.isInteger(reps) || reps < 1 || reps > 50) {
        fail(`--reps expects an integer from 1 to 50, got ${JSON.stringify(text)}`);
      }
    } else if (flag === "--only") {
      only = new Set(value().split(",").map((s) => s.trim()).filter(Boolean));
      const unknown = [...only].filter((op) => !ops.includes(op));
      if (unknown.length || only.size === 0) {
        fail(`--only expects op names from ${ops.join(", ")}, got ${unknown.join(", ") || "none"}`);
      }
    } else if (flag === "--out") {
      out = value();
    } else {
      fail(`unknown option ${JSON.stringify(args[i])}`);
    }
  }
  return { reps, only, out };
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Writes `text` to `dir/name`, creating the folder. */
export async function writeResult(dir: string, name: string, text: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, text);
  return path;
}

/** A Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A number with three significant digits (more for large values). */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return "–";
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
