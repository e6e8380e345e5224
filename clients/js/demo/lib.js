// The demo page's pure helpers (no DOM), tested in Node by test/demo-lib.test.mjs.

/** The payload of a JWT, without checking it (only to show who the demo is). */
export function jwtClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return null;
  }
}

/**
 * The image URL the page can load: http(s) URLs as they are; a file:// URL under the storage
 * directory that serve.mjs serves, mapped under its path (/storage/); anything else null.
 */
export function imageSrc(url, storage) {
  if (typeof url !== "string") return null;
  if (/^https?:\/\//i.test(url)) return url;
  if (!url.startsWith("file://") || !storage?.dir) return null;
  let file;
  try {
    file = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  const dir = storage.dir.replace(/\/+$/, "") + "/";
  if (!file.startsWith(dir)) return null;
  const rel = file.slice(dir.length).split("/").map(encodeURIComponent).join("/");
  return `${(storage.path || "/storage/").replace(/\/*$/, "/")}${rel}`;
}

/** A readable error from a problem+json answer (RFC 9457, openapi.yaml `Problem`). */
export function describeProblem(response, problem, fn) {
  const status = response.status;
  const p = problem && typeof problem === "object" ? problem : {};
  const headerRetry = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
  const retryAfter = Number.isInteger(p.retryAfter) ? p.retryAfter : Number.isFinite(headerRetry) ? headerRetry : undefined;
  const lines = [];
  if (p.detail) lines.push(p.detail);
  if (Array.isArray(p.errors)) {
    for (const e of p.errors) lines.push(`${e.field}: ${e.reason}`);
  }
  let title = `${fn} answered ${status}${p.title ? ` ${p.title}` : ""}`;
  switch (status) {
    case 400:
      title = "The request was refused as invalid (400)";
      break;
    case 401:
      title = "The demo token was refused (401)";
      lines.push("It expired, or the functions use another AUTH_JWT_SECRET; mint a new one with `scenergy-demo token`.");
      break;
    case 403:
      title = "Not allowed (403)";
      break;
    case 413:
      title = "The request is too large (413)";
      break;
    case 422:
      title = "The model could not analyse a product (422)";
      break;
    case 429:
      title = "Too many jobs this minute (429)";
      break;
    case 502:
      title = "The model provider failed to answer (502)";
      lines.push("This is transient; try again in a moment.");
      break;
    case 503: {
      const why = {
        rate_limited: "the model's rate limit is used up",
        unavailable: "the rate limiter is unreachable",
        model_unavailable: "the model is overloaded",
      }[p.error];
      title = `Over capacity (503${p.error ? ` ${p.error}` : ""})${why ? `: ${why}` : ""}`;
      break;
    }
    default:
      if (status >= 500) title = `${fn} failed (${status})`;
  }
  return { title, lines, retryAfter, status };
}

