/**
 * @file A static file server for one folder, on the loopback interface only. The URL
 * import test serves the repository with it (Deno fetches `.ts` modules by URL), and the
 * browser test and `deno task serve` serve the web page and the bundle with it. A request
 * can reach only files inside the folder.
 */

const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".md": "text/plain; charset=utf-8",
};

/** A running static server; stop it with `await server.shutdown()` or `await using`. */
export interface StaticServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, with no trailing slash. */
  readonly origin: string;
  /** Stops listening and waits for open connections to finish. */
  shutdown(): Promise<void>;
}

/** Maps a request path to a file inside `root`, or null when it would leave `root`. */
function fileFor(root: string, pathname: string): string | null {
  const parts = decodeURIComponent(pathname).split("/").filter((p) => p !== "");
  if (parts.some((p) => p === ".." || p.includes("\\") || p.startsWith("."))) return null;
  const path = `${root}/${parts.join("/")}`;
  return pathname.endsWith("/") ? `${path}/index.html` : path;
}

/**
 * Serves the files under `root` on 127.0.0.1. Port 0 (the default) picks a free port.
 * Hidden files and folders (a leading dot) are not served.
 */
export function serveDirectory(
  root: string,
  { port = 0, quiet = true }: { port?: number; quiet?: boolean } = {},
): StaticServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
    const path = fileFor(root, new URL(request.url).pathname);
    const type = path && CONTENT_TYPES[path.slice(path.lastIndexOf("."))];
    let status = 200;
    let response: Response;
    try {
      if (!path || !type) throw new Deno.errors.NotFound();
      response = new Response(await Deno.readFile(path), {
        headers: { "content-type": type, "cache-control": "no-store" },
      });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory)) {
        throw error;
      }
      status = 404;
      response = new Response("not found\n", { status });
    }
    if (!quiet) console.log(`${status} ${request.method} ${new URL(request.url).pathname}`);
    return response;
  });
  const shutdown = () => server.shutdown();
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

if (import.meta.main) {
  const [flag, value] = Deno.args;
  const port = flag === undefined ? 8000 : flag === "--port" ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535 || Deno.args.length > 2) {
    console.error(
      `serve: expected no arguments or --port N with N an integer in [0, 65535], got ${
        Deno.args.join(" ") || "nothing"
      }`,
    );
    Deno.exit(2);
  }
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const server = serveDirectory(root, { port, quiet: false });
  console.log(`serving ${root} at ${server.origin}/ (Ctrl-C stops)`);
  console.log(`web demo: ${server.origin}/demos/web/  (run \`deno task build\` first)`);
}
