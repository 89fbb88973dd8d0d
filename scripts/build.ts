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

/**
 * Resolves an `npm:` specifier (`npm:fast-check@4.3.0`, which `@deno-gpu/kernels/testing`
 * writes in full so that it imports from URLs) as the package's name, from the
 * `node_modules` that Deno installs for this build's config.
 */
const npmSpecifiers: esbuild.Plugin = {
  name: "npm-specifiers",
  setup(build) {
    build.onResolve({ filter: /^npm:/ }, (args) => {
      const [, name, subpath = ""] = args.path.match(
        /^npm:(@?[^@/]+(?:\/[^@/]+)?)(?:@[^/]*)?(\/.*)?$/,
      )!;
      return build.resolve(name + subpath, { kind: args.kind, resolveDir: args.resolveDir });
    });
  },
};

/**
 * The uses of a Deno API in a JavaScript module (`Deno.x` or `globalThis.Deno.x`), found
 * in its syntax tree: a mention in a comment or a string (the
 * `Symbol.for("Deno.customInspect")` key, a JSDoc line) uses nothing and is not one.
 */
function denoUses(source: string): { line: number; text: string }[] {
  const file = ts.createSourceFile("bundle.js", source, ts.ScriptTarget.ES2022, true);
  const lines = source.split("\n");
  const isDeno = (node: ts.Node) =>
    (ts.isIdentifier(node) && node.text === "Deno") ||
    (ts.isPropertyAccessExpression(node) && node.name.text === "Deno");
  const found: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && isDeno(node.expression)) {
      const line = file.getLineAndCharacterOfPosition(node.getStart()).line;
      found.push({ line: line + 1, text: lines[line].trim() });
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(file, visit);
  return found;
}

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
    plugins: [coreAsBundle, npmSpecifiers],
  });
  for (const [file, { bytes }] of Object.entries(core.metafile!.outputs)) {
    console.log(`build: ${file} ${(bytes / 1024).toFixed(1)} KiB`);
  }
} finally {
  await esbuild.stop();
}

step("checking for Deno-only APIs in dist/kernels.js");
const bundle = await Deno.readTextFile(`${root}dist/kernels.js`);
const uses = denoUses(bundle).map(({ line, text }) => `  line ${line}: ${text}`);
if (uses.length > 0) {
  console.error(`build: dist/kernels.js uses Deno-only APIs:\n${uses.join("\n")}`);
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
