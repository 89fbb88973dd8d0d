/**
 * @file `deno doc --lint` for an entry point whose public types name another package's
 * (`@deno-gpu/kernels/testing` takes fast-check's `Arbitrary`): Deno 2.9 reports such a
 * type as private (`private-type-ref`) when the package is an npm one, though it is that
 * package's public API and not ours to document (denoland/deno#27364; the fix,
 * denoland/deno#34339, covers jsr: and https: types, not npm's, which resolve to files).
 * This runs the linter and fails on every diagnostic but those: a `private-type-ref` whose
 * referenced type is a declaration (`export declare …`) of a `.d.ts` file, which no source
 * of ours is. Usage: `deno run --allow-run --allow-env scripts/doc_lint.ts testing.ts`.
 */

const { stderr, success } = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--lint", ...Deno.args],
  env: { NO_COLOR: "1" },
  stdout: "inherit",
}).output();
const output = new TextDecoder().decode(stderr);
const diagnostics = output.split(/\n(?=error\[)/).filter((d) => d.startsWith("error["));
const external = (d: string) =>
  d.startsWith("error[private-type-ref]") &&
  /\| export declare .*\n.*this is the referenced type/.test(d);
const ours = diagnostics.filter((d) => !external(d));
const tolerated = diagnostics.length - ours.length;
if (ours.length > 0 || (!success && diagnostics.length === 0)) {
  console.error(ours.length > 0 ? ours.join("\n") : output);
  console.error(`doc lint: ${ours.length} errors of ours in ${Deno.args.join(" ")}`);
  Deno.exit(1);
}
console.log(
  `doc lint: ${Deno.args.join(" ")} clean` +
    (tolerated ? ` (${tolerated} references to npm packages' types, denoland/deno#27364)` : ""),
);
