/**
 * @file `deno task build`: the browser build. esbuild bundles the core (`mod.ts`) into
 * one ES module, `dist/kernels.js`, with a source map; the web demo and the browser
 * property runner are bundled beside it with `mod.ts` left as an import of
 * `../kernels.js`, so the page and the test run the very bundle users get. The TypeScript
 * compiler then checks the same sources against `@webgpu/types` and the DOM
 * (`tsconfig.web.json`), so the core compiles outside Deno, and the bundle is searched for
 * any Deno-only API.
 */
import * as esbuild from "esbuild";
import ts from "typescript";

const root = new URL("..", import.meta.url).pathname;
const step = (what: string) => console.log(`build: ${what}`);

/** Resolves every import of the core's `mod.ts` (other than as the entry) to the bundle. */
const coreAsBundle: esbuild.Plugin = {
  name: "core-as-bundle",
  setup(build) {
    build.onResolve(
      { filter: /(^|\/)mod\.ts$/ },
      (args) => args.kind === "entry-point" ? undefined : { path: "../kernels.js", external: true },
    );
  },
};

const common: esbuild.BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  sourcemap: true,
  logLevel: "warning",
  metafile: true,
};

try {
  step("bundling mod.ts → dist/kernels.js");
  const core = await esbuild.build({
    ...common,
    entryPoints: { kernels: "mod.ts" },
    outdir: "dist",
  });
  step("bundling the web demo and the browser tests → dist/web/");
  await esbuild.build({
    ...common,
    entryPoints: { app: "demos/web/app.ts", properties: "tests/browser/properties.ts" },
    outdir: "dist/web",
    plugins: [coreAsBundle],
  });
  for (const [file, { bytes }] of Object.entries(core.metafile!.outputs)) {
    console.log(`build: ${file} ${(bytes / 1024).toFixed(1)} KiB`);
  }
} finally {
  await esbuild.stop();
}

step("checking for Deno-only APIs in dist/kernels.js");
const bundle = await Deno.readTextFile(`${root}dist/kernels.js`);
const denoUses = bundle.split("\n").flatMap((line, i) =>
  /\bDeno\./.test(line) ? [`  line ${i + 1}: ${line.trim()}`] : []
);
if (denoUses.length > 0) {
  console.error(`build: dist/kernels.js uses Deno-only APIs:\n${denoUses.join("\n")}`);
  Deno.exit(1);
}

step("type-checking with the TypeScript compiler against @webgpu/types (tsconfig.web.json)");
const configPath = `${root}tsconfig.web.json`;
const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  },
})!;
const program = ts.createProgram(config.fileNames, config.options);
const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)];
if (diagnostics.length > 0) {
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  }));
  console.error(`build: the TypeScript compiler found ${diagnostics.length} errors`);
  Deno.exit(1);
}
step(`TypeScript ${ts.version}: ${program.getSourceFiles().length} files, no errors`);
