/**
 * @file The one import of fast-check in `@deno-gpu/kernels/testing`, by its full npm
 * specifier: the entry point is also imported from URLs (tests/url_import_test.ts), where
 * no import map names "fast-check". deno.json maps "fast-check" to this same specifier for
 * the tests, so both are one package, and its arbitraries pass between them.
 */
// deno-lint-ignore no-import-prefix -- a URL import has no import map (see above).
import fc from "npm:fast-check@4.3.0";

export default fc;
