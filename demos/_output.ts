/**
 * @file A demo's output directory: checked before any work (so that `--out README.md`
 * fails at once, not after minutes of training), and written all or nothing at the end.
 *
 * The check creates nothing that stays: it finds the directory, or the nearest folder
 * above it that exists, and proves that it can write there by creating and removing a
 * temporary file, which is the one test that holds for every cause (permissions, a
 * read-only file system, `/proc`, Deno's `--allow-write`), root included.
 */
import { dirname, join, resolve } from "node:path";
import { expected, quoted } from "./args.ts";

async function statOrNull(
  path: string,
  dir: string,
  option: string,
): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null; // missing, or under a file: the caller walks up
    }
    throw expected(
      option,
      "a directory it can write to",
      `${quoted(dir)}: ${(error as Error).message}`,
    );
  }
}

/**
 * Checks that `dir` is a directory the demo can write into, or can be created as one.
 *
 * @param dir The directory given.
 * @param option The option that named it, for the message.
 * @throws {UsageError} When `dir` or a folder above it is a file, or
 * the directory (or the nearest existing folder above it) cannot be written.
 */
export async function checkOutputDirectory(dir: string, option = "out"): Promise<void> {
  let existing = resolve(dir);
  let info = await statOrNull(existing, dir, option);
  while (info === null && dirname(existing) !== existing) {
    existing = dirname(existing);
    info = await statOrNull(existing, dir, option);
  }
  if (info === null) throw expected(option, "a directory", `${quoted(dir)}, which has no root`);
  if (!info.isDirectory) {
    throw existing === resolve(dir)
      ? expected(option, "a directory", `${quoted(dir)}, an existing file`)
      : expected(option, "a directory", `${quoted(dir)}, under the file ${quoted(existing)}`);
  }
  try {
    await Deno.remove(await Deno.makeTempFile({ dir: existing, prefix: ".write-check-" }));
  } catch (error) {
    const where = existing === resolve(dir) ? "" : ` (to be created in ${quoted(existing)})`;
    throw expected(
      option,
      "a directory it can write to",
      `${quoted(dir)}${where}: ${(error as Error).message}`,
    );
  }
}

/**
 * Writes files into a directory all or nothing: each is written into a fresh staging
 * directory beside it, and only when all are written are they moved into place.
 *
 * @param dir The destination; created if missing.
 * @param files Names and contents (text is written as UTF-8).
 * @returns The paths written, in order.
 */
export async function writeAll(
  dir: string,
  files: readonly (readonly [string, Uint8Array | string])[],
): Promise<string[]> {
  const parent = dirname(resolve(dir));
  await Deno.mkdir(parent, { recursive: true });
  const staging = await Deno.makeTempDir({ dir: parent, prefix: ".staging-" });
  try {
    for (const [name, content] of files) {
      const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
      await Deno.writeFile(join(staging, name), bytes);
    }
    await Deno.mkdir(dir, { recursive: true });
    for (const [name] of files) await Deno.rename(join(staging, name), join(dir, name));
  } finally {
    await Deno.remove(staging, { recursive: true });
  }
  return files.map(([name]) => join(dir, name));
}
