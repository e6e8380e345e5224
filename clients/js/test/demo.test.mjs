// The demo's static server (demo/serve.mjs, run as a child process) and the page's pure helpers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describeProblem, imageSrc, jwtClaims } from "../demo/lib.js";
import { buildConfig, parseArgs } from "../demo/serve.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const serveScript = path.join(here, "..", "demo", "serve.mjs");
const T = { timeout: 15_000 };

// A 1×1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==",
  "base64",
);

/** Starts serve.mjs on a free port; resolves once it printed its URL. */
async function startServer(args, env = {}) {
  const child = spawn(process.execPath, [serveScript, "--port", "0", ...args], {
    env: { ...process.env, LOCAL_STORAGE_DIR: "", DEMO_STORAGE_DIR: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve.mjs did not start: ${err}`)), 5000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /demo page: (http:\/\/\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve.mjs exited ${code}: ${err}`));
    });
  });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, url: url.replace(/\/$/, ""), exited, output: () => out, errors: () => err };
}

describe("demo/serve.mjs", () => {
  let storage;
  let outside;
  let server;
  const token = ["e30", Buffer.from(JSON.stringify({ sub: "demo-client", exp: 4102444800 })).toString("base64url"), "sig"].join(".");

  before(async () => {
    storage = await fs.mkdtemp(path.join(os.tmpdir(), "demo-storage-"));
    outside = await fs.mkdtemp(path.join(os.tmpdir(), "demo-outside-"));
    await fs.mkdir(path.join(storage, "demo-client", "s1", "job1"), { recursive: true });
    await fs.writeFile(path.join(storage, "demo-client", "s1", "job1", "p1-0.png"), PNG);
    await fs.mkdir(path.join(storage, ".meta", "demo-client", "s1", "job1"), { recursive: true });
    await fs.writeFile(path.join(storage, ".meta", "demo-client", "s1", "job1", "p1-0.png"), "image/png");
    await fs.writeFile(path.join(storage, "demo-client", "s1", "job1", "notes.bin"), "x");
    await fs.writeFile(path.join(outside, "secret.txt"), "secret");
    await fs.symlink(path.join(outside, "secret.txt"), path.join(storage, "link.png"));
    const config = path.join(outside, "config.json");
    await fs.writeFile(config, JSON.stringify({ enqueueUrl: "http://127.0.0.1:9001/", token: "from-file", products: [{ id: "p1", name: "Chair" }, "p2"] }));
    server = await startServer(["--config", config, "--token", token, "--status-url", "http://127.0.0.1:9002", "--storage-dir", storage], {
      DEMO_ANALYZE_URL: "http://127.0.0.1:9003",
    });
  });

  after(async () => {
    if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
    await fs.rm(storage, { recursive: true, force: true });
    await fs.rm(outside, { recursive: true, force: true });
  });

  test("serves the page at /, its assets and the module", T, async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /text\/html/);
    assert.match(await page.text(), /<script type="module" src="\/demo\/demo.js">/);
    for (const [p, type] of [["/demo/demo.js", /javascript/], ["/demo/lib.js", /javascript/], ["/demo/demo.css", /css/], ["/index.js", /javascript/], ["/index.d.ts", /text\/plain/]]) {
      const r = await fetch(`${server.url}${p}`);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get("content-type"), type, p);
      await r.arrayBuffer();
    }
    const js = await (await fetch(`${server.url}/index.js`)).text();
    assert.match(js, /export function pollJobStatus/);
  });

  test("/config.json merges the file, env and flags, with the storage mapping", T, async () => {
    const r = await fetch(`${server.url}/config.json`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("cache-control"), "no-store");
    const config = await r.json();
    assert.deepEqual(config, {
      enqueueUrl: "http://127.0.0.1:9001",
      statusUrl: "http://127.0.0.1:9002",
      analyzeUrl: "http://127.0.0.1:9003",
      token,
      sessionId: "demo-session",
      products: [{ id: "p1", name: "Chair" }, { id: "p2", name: "p2" }],
      storage: { dir: storage, path: "/storage/" },
    });
  });

  test("serves stored images with the content type the backend recorded", T, async () => {
    const r = await fetch(`${server.url}/storage/demo-client/s1/job1/p1-0.png`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), PNG);
    const head = await fetch(`${server.url}/storage/demo-client/s1/job1/p1-0.png`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(PNG.length));
    const bin = await fetch(`${server.url}/storage/demo-client/s1/job1/notes.bin`);
    assert.equal(bin.headers.get("content-type"), "application/octet-stream");
    await bin.arrayBuffer();
  });

  test("serves nothing outside what it should", T, async () => {
    for (const p of [
      "/storage/../serve.mjs",
      "/storage/%2e%2e/%2e%2e/etc/passwd",
      "/storage/.meta/demo-client/s1/job1/p1-0.png",
      "/storage/link.png",
      "/storage/demo-client",
      "/demo/serve.mjs",
      "/package.json",
      "/node_modules/react/package.json",
      "/test/helpers.mjs",
      "/.npmrc",
      "/demo/..%2fpackage.json",
    ]) {
      const r = await fetch(`${server.url}${p}`);
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
      await r.arrayBuffer();
    }
    const post = await fetch(`${server.url}/config.json`, { method: "POST", body: "{}" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.arrayBuffer();
  });

  test("exits 0 on SIGTERM", T, async () => {
    const own = await startServer([]);
    // A keep-alive connection must not hold the exit up.
    await (await fetch(`${own.url}/config.json`)).json();
    own.child.kill("SIGTERM");
    const { code } = await own.exited;
    assert.equal(code, 0);
    assert.match(own.output(), /SIGTERM, closing/);
  });

  test("--exit-after bounds its life", T, async () => {
    const own = await startServer(["--exit-after", "0.3"]);
    const { code } = await own.exited;
    assert.equal(code, 0);
  });

  test("bad arguments exit 2 with the usage", T, async () => {
    const child = spawn(process.execPath, [serveScript, "--nope"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    assert.equal(code, 2);
    assert.match(err, /unknown option --nope/);
    assert.match(err, /Usage:/);
  });

  test("parseArgs and buildConfig: defaults, env, validation", () => {
    const s = parseArgs([], {});
    assert.equal(s.host, "127.0.0.1");
    assert.equal(s.port, 8090);
    const c = buildConfig(s);
    assert.equal(c.enqueueUrl, "http://127.0.0.1:8081");
    assert.equal(c.statusUrl, "http://127.0.0.1:8082");
    assert.equal(c.analyzeUrl, "http://127.0.0.1:8083");
    assert.equal(c.storage, undefined);
    assert.deepEqual(c.products.map((p) => p.id), ["demo-chair", "demo-lamp"]);
    const e = buildConfig(parseArgs(["--products=a, b"], { DEMO_STATUS_URL: "https://s.example/", LOCAL_STORAGE_DIR: "rel/dir" }));
    assert.deepEqual(e.products, [{ id: "a", name: "a" }, { id: "b", name: "b" }]);
    assert.equal(e.statusUrl, "https://s.example");
    assert.equal(e.storage.dir, path.resolve("rel/dir"));
    assert.throws(() => parseArgs(["--port", "x"], {}), /--port/);
    assert.throws(() => parseArgs(["--token"], {}), /needs a value/);
    assert.throws(() => buildConfig(parseArgs(["--enqueue-url", "ftp://x"], {})), /enqueueUrl/);
  });
});

describe("demo/lib.js", () => {
  const storage = { dir: "/var/lib/scenergy/storage", path: "/storage/" };

  test("imageSrc keeps http(s) URLs and maps file:// URLs under the storage directory", () => {
    assert.equal(imageSrc("https://cdn.example/a/b.png", storage), "https://cdn.example/a/b.png");
    assert.equal(imageSrc("file:///var/lib/scenergy/storage/c/s/j/p-0.png", storage), "/storage/c/s/j/p-0.png");
    assert.equal(imageSrc("file:///var/lib/scenergy/storage/c/s/j/p-0.png", { dir: "/var/lib/scenergy/storage/", path: "/files" }), "/files/c/s/j/p-0.png");
    assert.equal(imageSrc("file:///var/lib/scenergy/storage%20two/x.png", { dir: "/var/lib/scenergy/storage two", path: "/storage/" }), "/storage/x.png");
    assert.equal(imageSrc("file:///etc/passwd", storage), null, "outside the directory");
    assert.equal(imageSrc("file:///var/lib/scenergy/storage-other/x.png", storage), null, "a sibling with the same prefix");
    assert.equal(imageSrc("file:///var/lib/scenergy/storage/x.png", undefined), null, "no storage served");
    assert.equal(imageSrc("javascript:alert(1)", storage), null);
    assert.equal(imageSrc(null, storage), null);
  });

  test("jwtClaims reads the payload", () => {
    const token = ["e30", Buffer.from(JSON.stringify({ sub: "c1", exp: 5 })).toString("base64url"), "x"].join(".");
    assert.deepEqual(jwtClaims(token), { sub: "c1", exp: 5 });
    assert.equal(jwtClaims("garbage"), null);
  });

  test("describeProblem: field errors, 401, and the 503 retryAfter from analyze", () => {
    const res = (status, headers = {}) => new Response(null, { status, headers });
    const invalid = describeProblem(res(400), {
      type: "about:blank",
      title: "Bad Request",
      errors: [{ field: "settings.variantsPerProduct", reason: "must be at most 4" }],
    }, "enqueue");
    assert.match(invalid.title, /invalid \(400\)/);
    assert.deepEqual(invalid.lines, ["settings.variantsPerProduct: must be at most 4"]);

    const busy = describeProblem(res(503, { "retry-after": "12" }), {
      type: "about:blank",
      title: "Service Unavailable",
      error: "rate_limited",
      retryAfter: 12,
      detail: "gemini-text is over its limit",
    }, "analyze");
    assert.equal(busy.retryAfter, 12);
    assert.match(busy.title, /503 rate_limited.*rate limit is used up/);
    assert.deepEqual(busy.lines, ["gemini-text is over its limit"]);

    const headerOnly = describeProblem(res(429, { "retry-after": "30" }), null, "enqueue");
    assert.equal(headerOnly.retryAfter, 30);

    const unauthorized = describeProblem(res(401), { type: "about:blank", title: "Unauthorized" }, "analyze");
    assert.match(unauthorized.title, /token was refused/);
  });
});
