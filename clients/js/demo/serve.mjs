#!/usr/bin/env node
// The demo page's static server (node:http only, no dependencies).
//
// Serves:
//   /                  the demo page (demo/index.html)
//   /demo/...          the page's CSS and script
//   /index.js, ...     the client module itself (index.js, index.d.ts, react.js, react.d.ts)
//   /config.json       the page's configuration: the three function base URLs, a demo JWT and
//                      the demo products, from --config FILE and/or flags and env (see usage())
//   /storage/...       the filesystem storage backend's directory (--storage-dir), so that the
//                      page can show images whose asset URL is a file:// path under it
//
// Only GET and HEAD; every request is bounded by timeouts; SIGTERM and SIGINT close the server
// and exit 0 (after at most 2 s of draining). `--exit-after SECONDS` bounds its whole life.
import http from "node:http";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".json": "application/json",
  ".md": "text/markdown; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/** The module files served from the package root (nothing else there is). */
const ROOT_FILES = new Set(["index.js", "index.d.ts", "react.js", "react.d.ts", "README.md"]);

const DEFAULT_PRODUCTS = [
  { id: "demo-chair", name: "Oak lounge chair", description: "Solid oak frame, wool seat" },
  { id: "demo-lamp", name: "Brass floor lamp", description: "Brushed brass, linen shade" },
];

export function usage() {
  return `Usage: node demo/serve.mjs [options]

  --host HOST           listen address (DEMO_HOST, default 127.0.0.1)
  --port PORT           listen port, 0 for any free one (DEMO_PORT, default 8090)
  --config FILE         a JSON file with the page's configuration (DEMO_CONFIG)
  --enqueue-url URL     the enqueue function's base URL (DEMO_ENQUEUE_URL, default http://127.0.0.1:8081)
  --status-url URL      the status function's base URL (DEMO_STATUS_URL, default http://127.0.0.1:8082)
  --analyze-url URL     the analyze function's base URL (DEMO_ANALYZE_URL, default http://127.0.0.1:8083)
  --token JWT           the demo bearer token (DEMO_TOKEN)
  --products IDS        comma-separated demo product ids (DEMO_PRODUCTS)
  --session-id ID       the sessionId sent with jobs (DEMO_SESSION_ID, default demo-session)
  --storage-dir DIR     the filesystem storage directory to serve under /storage/
                        (DEMO_STORAGE_DIR or LOCAL_STORAGE_DIR)
  --exit-after SECONDS  exit 0 after this long (DEMO_EXIT_AFTER; default 0, never)
  --help                this text

Flags win over env, which wins over the --config file. The page calls the functions cross-origin:
start them with ALLOWED_ORIGINS including this server's origin (e.g. http://127.0.0.1:8090).`;
}

/** Parses argv and env into settings; throws an Error with a message for bad input. */
export function parseArgs(argv, env = process.env) {
  const flags = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      flags.help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const [, name, inline] = m;
    const known = ["host", "port", "config", "enqueue-url", "status-url", "analyze-url", "token", "products", "session-id", "storage-dir", "exit-after"];
    if (!known.includes(name)) throw new Error(`unknown option --${name}`);
    let value = inline;
    if (value === undefined) {
      i += 1;
      if (i >= argv.length) throw new Error(`--${name} needs a value`);
      value = argv[i];
    }
    flags[name] = value;
  }
  const pick = (flag, ...vars) => {
    if (flags[flag] !== undefined) return flags[flag];
    for (const v of vars) if (env[v] !== undefined && env[v] !== "") return env[v];
    return undefined;
  };
  const port = Number(pick("port", "DEMO_PORT") ?? 8090);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port must be 0-65535");
  const exitAfter = Number(pick("exit-after", "DEMO_EXIT_AFTER") ?? 0);
  if (!Number.isFinite(exitAfter) || exitAfter < 0) throw new Error("--exit-after must be a number of seconds >= 0");
  return {
    help: Boolean(flags.help),
    host: pick("host", "DEMO_HOST") ?? "127.0.0.1",
    port,
    configFile: pick("config", "DEMO_CONFIG"),
    storageDir: pick("storage-dir", "DEMO_STORAGE_DIR", "LOCAL_STORAGE_DIR"),
    exitAfterMs: exitAfter * 1000,
    overrides: {
      enqueueUrl: pick("enqueue-url", "DEMO_ENQUEUE_URL"),
      statusUrl: pick("status-url", "DEMO_STATUS_URL"),
      analyzeUrl: pick("analyze-url", "DEMO_ANALYZE_URL"),
      token: pick("token", "DEMO_TOKEN"),
      products: pick("products", "DEMO_PRODUCTS"),
      sessionId: pick("session-id", "DEMO_SESSION_ID"),
    },
  };
}

function normaliseProducts(products) {
  if (typeof products === "string") {
    products = products.split(",").map((s) => s.trim()).filter(Boolean);
  }
  if (!Array.isArray(products)) throw new Error("products must be a list");
  return products.map((p) => {
    if (typeof p === "string") {
      const known = DEFAULT_PRODUCTS.find((d) => d.id === p);
      return known ?? { id: p, name: p };
    }
    if (!p || typeof p.id !== "string" || p.id === "") throw new Error("each product needs an id");
    return { id: p.id, name: typeof p.name === "string" && p.name ? p.name : p.id, ...(p.description ? { description: String(p.description) } : {}) };
  });
}

/** The /config.json document: file, then env and flags, then defaults; plus the storage mapping. */
export function buildConfig(settings) {
  let file = {};
  if (settings.configFile) {
    try {
      file = JSON.parse(fs.readFileSync(settings.configFile, "utf8"));
    } catch (e) {
      throw new Error(`--config ${settings.configFile}: ${e.message}`);
    }
    if (!file || typeof file !== "object" || Array.isArray(file)) throw new Error(`--config ${settings.configFile}: not a JSON object`);
  }
  const o = settings.overrides;
  const value = (key, fallback) => o[key] ?? file[key] ?? fallback;
  const config = {
    enqueueUrl: String(value("enqueueUrl", "http://127.0.0.1:8081")).replace(/\/+$/, ""),
    statusUrl: String(value("statusUrl", "http://127.0.0.1:8082")).replace(/\/+$/, ""),
    analyzeUrl: String(value("analyzeUrl", "http://127.0.0.1:8083")).replace(/\/+$/, ""),
    token: value("token", ""),
    sessionId: value("sessionId", "demo-session"),
    products: normaliseProducts(value("products", DEFAULT_PRODUCTS)),
  };
  for (const key of ["enqueueUrl", "statusUrl", "analyzeUrl"]) {
    if (!/^https?:\/\/[^/]+/.test(config[key])) throw new Error(`${key} must be an http(s) URL, got ${JSON.stringify(config[key])}`);
  }
  if (settings.storageDir) config.storage = { dir: path.resolve(settings.storageDir), path: "/storage/" };
  return config;
}

/** Creates the server (not listening). */
export function createDemoServer(settings) {
  const config = buildConfig(settings);
  const configBody = JSON.stringify(config, null, 2);
  const storageDir = config.storage?.dir ?? null;

  const server = http.createServer(async (req, res) => {
    try {
      await handle(req, res);
    } catch (error) {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
      process.stderr.write(`demo server: ${req.method} ${req.url}: ${error?.stack ?? error}\n`);
    }
  });
  // Bounded: slow or idle clients are cut off.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  server.maxConnections = 256;

  async function handle(req, res) {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, "http://demo.invalid").pathname);
    } catch {
      return send(res, 400, "text/plain; charset=utf-8", "bad path\n");
    }
    if (pathname.includes("\0")) return send(res, 400, "text/plain; charset=utf-8", "bad path\n");
    if (pathname === "/" || pathname === "/index.html") {
      return sendFile(req, res, path.join(root, "demo", "index.html"));
    }
    if (pathname === "/config.json") {
      return send(res, 200, "application/json", configBody, req.method === "HEAD");
    }
    if (pathname === "/favicon.ico") return send(res, 204, "image/x-icon", "");
    if (pathname.startsWith("/storage/")) {
      if (!storageDir) return send(res, 404, "text/plain; charset=utf-8", "no --storage-dir configured\n");
      return sendStored(req, res, pathname.slice("/storage/".length));
    }
    if (pathname.startsWith("/demo/")) {
      const rel = pathname.slice("/demo/".length);
      if (!safeRelative(rel) || rel === "serve.mjs") return notFound(res);
      return sendFile(req, res, path.join(root, "demo", rel));
    }
    const name = pathname.slice(1);
    if (ROOT_FILES.has(name)) return sendFile(req, res, path.join(root, name));
    return notFound(res);
  }

  async function sendStored(req, res, rel) {
    if (!safeRelative(rel)) return notFound(res);
    const file = path.join(storageDir, rel);
    // Resolve symlinks and make sure the file is still inside the storage directory.
    let real;
    let realRoot;
    try {
      [real, realRoot] = await Promise.all([fsp.realpath(file), fsp.realpath(storageDir)]);
    } catch {
      return notFound(res);
    }
    if (!real.startsWith(realRoot + path.sep)) return notFound(res);
    let type;
    try {
      // The filesystem backend keeps each object's content type in {root}/.meta/{key}.
      type = (await fsp.readFile(path.join(storageDir, ".meta", rel), "utf8")).trim() || undefined;
    } catch {
      type = undefined;
    }
    return sendFile(req, res, real, { type, cache: "private, max-age=60" });
  }

  return { server, config };
}

/** A relative path of plain segments: no empty, `.`/`..` or hidden segments, no backslashes. */
function safeRelative(rel) {
  if (rel === "" || rel.includes("\\")) return false;
  return rel.split("/").every((seg) => seg !== "" && !seg.startsWith("."));
}

function notFound(res) {
  return send(res, 404, "text/plain; charset=utf-8", "not found\n");
}

function send(res, status, type, body, headOnly = false) {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(headOnly ? undefined : body);
}

async function sendFile(req, res, file, { type, cache = "no-cache" } = {}) {
  let stat;
  try {
    stat = await fsp.stat(file);
  } catch {
    return notFound(res);
  }
  if (!stat.isFile()) return notFound(res);
  res.writeHead(200, {
    "content-type": type ?? TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
    "content-length": stat.size,
    "cache-control": cache,
    "x-content-type-options": "nosniff",
  });
  if (req.method === "HEAD") return res.end();
  await new Promise((resolve, reject) => {
    const stream = fs.createReadStream(file);
    stream.on("error", reject);
    res.on("close", resolve);
    stream.pipe(res);
  });
}

async function main() {
  let settings;
  try {
    settings = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`serve.mjs: ${e.message}\n\n${usage()}\n`);
    process.exit(2);
  }
  if (settings.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  let created;
  try {
    created = createDemoServer(settings);
  } catch (e) {
    process.stderr.write(`serve.mjs: ${e.message}\n`);
    process.exit(2);
  }
  const { server, config } = created;
  server.on("error", (e) => {
    process.stderr.write(`serve.mjs: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(settings.port, settings.host, () => {
    const { address, port } = server.address();
    const host = address.includes(":") ? `[${address}]` : address;
    process.stdout.write(`demo page: http://${host}:${port}/\n`);
    process.stdout.write(`functions: enqueue ${config.enqueueUrl}, status ${config.statusUrl}, analyze ${config.analyzeUrl}\n`);
    if (config.storage) process.stdout.write(`storage: ${config.storage.dir} under /storage/\n`);
    if (!config.token) process.stdout.write("warning: no --token; the functions will answer 401\n");
  });

  let closing = false;
  const shutdown = (why) => {
    if (closing) return;
    closing = true;
    process.stdout.write(`demo server: ${why}, closing\n`);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, 2000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  if (settings.exitAfterMs > 0) setTimeout(() => shutdown("--exit-after elapsed"), settings.exitAfterMs).unref();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
