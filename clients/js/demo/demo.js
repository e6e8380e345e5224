// The demo page: enqueue an image job, follow it with pollJobStatus, show the images; and
// analyse products (Lane A). Plain ESM, no framework; configuration from /config.json.
import { pollJobStatus } from "../index.js";
import { describeProblem, imageSrc as mapImageSrc, jwtClaims } from "./lib.js";

const $ = (id) => document.getElementById(id);

let config = null;
let currentPoll = null;
let currentJobId = null;
let analyzeRetryTimer = null;

main().catch((error) => showError($("config-error"), { title: "The demo could not start", lines: [String(error?.message ?? error)] }));

async function main() {
  config = await loadConfig();
  renderConfigSummary();
  renderProducts();
  $("job-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitJob();
  });
  $("cancel-job").addEventListener("click", cancelJob);
  $("analyze-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitAnalyze();
  });
  document.body.dataset.ready = "true";
}

// ---------------------------------------------------------------------------------------------
// Configuration

async function loadConfig() {
  let response;
  try {
    response = await fetch("/config.json", { cache: "no-store" });
  } catch (error) {
    throw new Error(`Could not load /config.json: ${error.message}`);
  }
  if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
  const c = await response.json();
  for (const key of ["enqueueUrl", "statusUrl", "analyzeUrl"]) {
    if (typeof c[key] !== "string" || !c[key]) throw new Error(`/config.json has no ${key}`);
  }
  c.products = Array.isArray(c.products) ? c.products : [];
  return c;
}

function renderConfigSummary() {
  const claims = config.token ? jwtClaims(config.token) : null;
  const who = claims?.sub ? `client ${claims.sub}` : "no client";
  let expiry = "";
  if (claims?.exp) {
    const left = Math.round(claims.exp - Date.now() / 1000);
    expiry = left > 0 ? `, token valid for ${formatDuration(left)}` : ", token EXPIRED";
  }
  $("config-summary").textContent =
    `${who}${expiry} · enqueue ${config.enqueueUrl} · status ${config.statusUrl} · analyze ${config.analyzeUrl}`;
  if (!config.token) {
    showError($("config-error"), {
      title: "No demo token in /config.json",
      lines: ["Every call will be answered 401. Start serve.mjs with --token (mint one with `scenergy-demo token`)."],
    });
  } else if (claims?.exp && claims.exp * 1000 < Date.now()) {
    showError($("config-error"), {
      title: "The demo token has expired",
      lines: ["Mint a new one with `scenergy-demo token` and restart serve.mjs with it."],
    });
  }
}

function productName(id) {
  return config.products.find((p) => p.id === id)?.name ?? id;
}

function renderProducts() {
  const set = $("job-products");
  const analyze = $("analyze-products");
  if (config.products.length) set.querySelector("[data-empty]").remove();
  for (const product of config.products) {
    const label = el("label", {}, [
      el("input", { type: "checkbox", name: "productIds", value: product.id, checked: true }),
      `${product.name} `,
      el("code", {}, product.id),
    ]);
    set.append(label);

    const box = el("div", { className: "analyze-product", dataset: { productId: product.id } }, [
      el("label", {}, [
        el("input", { type: "checkbox", name: "analyzeIds", value: product.id, checked: true }),
        el("code", {}, product.id),
      ]),
      el("label", {}, ["Name", el("input", { type: "text", name: "name", value: product.name, maxLength: 200 })]),
      el("label", {}, ["Description", el("textarea", { name: "description", rows: 2, maxLength: 2000, value: product.description ?? "" })]),
    ]);
    analyze.append(box);
  }
  if (!config.products.length) {
    analyze.append(el("p", { className: "muted" }, "No demo products in the configuration."));
    $("submit-analyze").disabled = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Lane B: enqueue, poll, gallery

async function submitJob() {
  const form = $("job-form");
  const errorBox = $("job-error");
  hide(errorBox);
  const productIds = [...form.querySelectorAll('input[name="productIds"]:checked')].map((i) => i.value);
  const prompt = $("prompt").value.trim();
  const variants = Number($("variants").value);
  const problems = [];
  if (!productIds.length) problems.push("Pick at least one product.");
  if (!prompt) problems.push("Write a prompt.");
  if (!Number.isInteger(variants) || variants < 1 || variants > 4) problems.push("Variants per product must be 1 to 4.");
  if (problems.length) return showError(errorBox, { title: "The job is not valid yet", lines: problems });

  // openapi.yaml, JobRequest.
  const body = {
    type: "image_generation",
    sessionId: config.sessionId || "demo-session",
    productIds,
    prompt,
    settings: {
      aspectRatio: $("aspect-ratio").value,
      imageQuality: $("image-quality").value,
      variantsPerProduct: variants,
    },
    priority: $("priority").value,
  };

  stopPolling();
  const button = $("submit-job");
  button.disabled = true;
  button.textContent = "Queuing…";
  try {
    const { response, json } = await call("enqueue", "POST", `${config.enqueueUrl}/api/jobs`, body, {
      "Idempotency-Key": `demo-${randomId()}`,
    });
    if (response.status !== 202) {
      return showError(errorBox, describeProblem(response, json, "enqueue"));
    }
    startJob(json.jobId);
  } catch (error) {
    showError(errorBox, networkProblem(error, "enqueue", config.enqueueUrl));
  } finally {
    button.disabled = false;
    button.textContent = "Generate";
  }
}

function startJob(jobId) {
  currentJobId = jobId;
  $("job").hidden = false;
  $("job-id").textContent = jobId;
  $("gallery").replaceChildren();
  $("failed-items").replaceChildren();
  $("failed-items").hidden = true;
  $("provider").textContent = "";
  $("cancel-job").hidden = false;
  setProgress(0, "queued");
  renderStatusBadge({ status: "queued", attempts: 0 });
  $("progress-text").textContent = "Queued; waiting for the worker…";

  const poll = pollJobStatus(jobId, {
    baseUrl: config.statusUrl,
    getToken: () => config.token,
    onProgress: (status) => {
      if (jobId === currentJobId) renderStatus(status);
    },
    onComplete: (status) => {
      if (jobId === currentJobId) renderResult(status);
    },
    onError: (error) => {
      if (jobId === currentJobId) renderPollError(error);
    },
  });
  currentPoll = poll;
  // Everything is reported through the callbacks; an abort (a new job) needs nothing.
  poll.catch(() => {}).finally(() => {
    if (currentPoll === poll) {
      currentPoll = null;
      $("cancel-job").hidden = true;
    }
  });
}

function stopPolling() {
  if (currentPoll) currentPoll.stop();
  currentPoll = null;
}

function renderStatusBadge(status) {
  const badge = $("job-status");
  badge.textContent = status.status;
  badge.dataset.status = status.status;
  $("job-attempts").textContent = status.attempts > 1 ? `attempt ${status.attempts}` : "";
}

function renderStatus(status) {
  renderStatusBadge(status);
  const p = status.progress;
  let percent = 0;
  if (p && typeof p === "object") {
    percent = Number.isFinite(p.percent) ? p.percent : p.total ? (100 * ((p.completed ?? 0) + (p.failed ?? 0))) / p.total : 0;
  }
  if (status.status === "completed") percent = 100;
  setProgress(percent, status.status);

  const text = $("progress-text");
  if (p && typeof p === "object" && Number.isFinite(p.total)) {
    const failed = p.failed ? `, ${p.failed} failed` : "";
    text.textContent = `${p.completed ?? 0} of ${p.total} images ready${failed} (${Math.round(percent)}%)`;
  } else if (status.status === "queued") {
    text.textContent = "Queued; waiting for the worker…";
  } else if (status.status === "delayed") {
    text.textContent = "Delayed: waiting to be retried…";
  } else if (status.status === "active") {
    text.textContent = "Generating…";
  }
  if (status.status === "failed") {
    text.textContent = `Failed: ${status.error || "no reason given"}`;
    if (status.result) renderResult(status);
  }
  if (status.status === "cancelled") text.textContent = "Cancelled.";
}

function setProgress(percent, state) {
  const bar = $("progress");
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  bar.setAttribute("aria-valuenow", String(value));
  bar.dataset.percent = String(value);
  bar.dataset.state = state;
  $("progress-fill").style.width = `${value}%`;
}

function renderResult(status) {
  const result = status.result ?? {};
  const assets = Array.isArray(result.assets) ? [...result.assets] : [];
  assets.sort((a, b) => String(a.productId).localeCompare(String(b.productId)) || a.variant - b.variant);
  $("provider").textContent = result.provider
    ? `· ${assets.length} image${assets.length === 1 ? "" : "s"} by the ${result.provider} provider`
    : "";
  const gallery = $("gallery");
  gallery.replaceChildren(...assets.map(renderAsset));

  const failed = Array.isArray(result.failed) ? result.failed : [];
  const list = $("failed-items");
  list.replaceChildren(
    ...failed.map((f) => el("li", {}, `${productName(f.productId)} (${f.productId}), variant ${f.variant}: ${f.reason}`)),
  );
  list.hidden = failed.length === 0;
  if (status.status === "completed") {
    const p = status.progress;
    $("progress-text").textContent = `Done: ${assets.length} image${assets.length === 1 ? "" : "s"}${failed.length ? `, ${failed.length} failed` : ""}.`;
    if (p && Number.isFinite(p.total) && p.total !== assets.length + failed.length) {
      $("progress-text").textContent += ` (expected ${p.total})`;
    }
  }
}

function renderAsset(asset) {
  const src = mapImageSrc(asset.url, config.storage);
  const caption = el("figcaption", {}, [
    el("strong", {}, productName(asset.productId)),
    el("span", {}, `${asset.productId} · variant ${asset.variant}`),
  ]);
  const figure = el("figure", { dataset: { productId: asset.productId, variant: String(asset.variant), assetId: asset.id ?? "" } });
  if (src) {
    const img = el("img", { src, alt: `${productName(asset.productId)}, variant ${asset.variant}`, loading: "lazy" });
    img.addEventListener("error", () => {
      img.replaceWith(el("div", { className: "missing" }, `Could not load ${asset.url}`));
    });
    figure.append(img);
  } else {
    figure.append(
      el("div", { className: "missing" }, `${asset.url} is a local file outside the served storage directory; start serve.mjs with --storage-dir set to the worker's LOCAL_STORAGE_DIR.`),
    );
  }
  figure.append(caption);
  return figure;
}

async function cancelJob() {
  if (!currentJobId) return;
  const button = $("cancel-job");
  button.disabled = true;
  try {
    const { response, json } = await call("status", "DELETE", `${config.statusUrl}/api/jobs/${encodeURIComponent(currentJobId)}`);
    if (response.status === 200 || response.status === 202) {
      renderStatusBadge(json);
      if (response.status === 202) $("progress-text").textContent = "Cancellation requested; the worker stops between images…";
    } else {
      showError($("job-error"), describeProblem(response, json, "status"));
    }
  } catch (error) {
    showError($("job-error"), networkProblem(error, "status", config.statusUrl));
  } finally {
    button.disabled = false;
  }
}

function renderPollError(error) {
  if (error.code === "job_cancelled") return;
  if (error.code === "job_failed") {
    return showError($("job-error"), { title: "The job failed", lines: [error.status?.error || "No reason given."] });
  }
  setProgress(Number($("progress").dataset.percent), "failed");
  const lines = [error.message];
  if (error.code === "not_found") {
    lines.push("A job's status is kept for 1 hour; after that, or for another client's job, the status function answers 404.");
  } else if (error.code === "unauthorized") {
    lines.push("The demo token was refused: it expired, or the functions use another AUTH_JWT_SECRET.");
  } else if (error.code === "network") {
    lines.push(`Is the status function running at ${config.statusUrl}, and does its ALLOWED_ORIGINS include ${location.origin}?`);
  }
  showError($("job-error"), { title: "Lost track of the job", lines });
}

// ---------------------------------------------------------------------------------------------
// Lane A: analyze

async function submitAnalyze() {
  const errorBox = $("analyze-error");
  hide(errorBox);
  const products = [...document.querySelectorAll(".analyze-product")]
    .filter((box) => box.querySelector('input[name="analyzeIds"]').checked)
    .map((box) => {
      const product = { id: box.dataset.productId, name: box.querySelector('input[name="name"]').value.trim() };
      const description = box.querySelector('textarea[name="description"]').value.trim();
      if (description) product.description = description;
      return product;
    });
  if (!products.length) return showError(errorBox, { title: "Nothing to analyse", lines: ["Pick at least one product."] });

  const button = $("submit-analyze");
  button.disabled = true;
  button.textContent = "Analysing…";
  let retryAfter = 0;
  try {
    const { response, json } = await call("analyze", "POST", `${config.analyzeUrl}/api/analyze`, { products });
    if (response.status !== 200) {
      const problem = describeProblem(response, json, "analyze");
      retryAfter = problem.retryAfter ?? 0;
      return showError(errorBox, problem);
    }
    renderAnalyses(json);
  } catch (error) {
    showError(errorBox, networkProblem(error, "analyze", config.analyzeUrl));
  } finally {
    button.textContent = "Analyze";
    if (retryAfter > 0) holdAnalyze(retryAfter);
    else button.disabled = false;
  }
}

/** Keeps the Analyze button off for `seconds`, counting down in the error box. */
function holdAnalyze(seconds) {
  clearInterval(analyzeRetryTimer);
  const button = $("submit-analyze");
  const counter = $("analyze-error").querySelector("[data-retry-in]");
  let left = seconds;
  button.disabled = true;
  const tick = () => {
    if (counter) counter.textContent = left > 0 ? `Retry in ${left} s.` : "You can retry now.";
    button.textContent = left > 0 ? `Analyze (${left} s)` : "Analyze";
    if (left <= 0) {
      clearInterval(analyzeRetryTimer);
      button.disabled = false;
    }
    left -= 1;
  };
  tick();
  analyzeRetryTimer = setInterval(tick, 1000);
}

function renderAnalyses(reply) {
  $("analyze-provider").textContent = `Answered by the ${reply.provider} provider${reply.provider === "offline" ? " (no Gemini key configured)" : ""}.`;
  const template = $("analysis-template");
  const nodes = (reply.results ?? []).map((r) => {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.productId = r.id;
    const field = (name) => node.querySelector(`[data-field="${name}"]`);
    field("title").textContent = `${productName(r.id)} (${r.id})`;
    field("category").textContent = r.category;
    field("style").textContent = r.style;
    field("materials").textContent = (r.materials ?? []).join(", ") || "–";
    field("colours").textContent = (r.colours ?? []).join(", ") || "–";
    const scenes = field("scenes");
    for (const s of r.sceneSuggestions ?? []) {
      const use = el("button", { type: "button", className: "secondary", title: "Use as the job's prompt" }, "use as prompt");
      use.addEventListener("click", () => {
        $("prompt").value = s.promptHint;
        $("prompt").focus();
      });
      scenes.append(el("li", {}, [el("strong", {}, s.title), `: ${s.promptHint}`, use]));
    }
    return node;
  });
  $("analyze-results").replaceChildren(...nodes);
}

// ---------------------------------------------------------------------------------------------
// HTTP and errors

async function call(name, method, url, body, extraHeaders = {}) {
  const headers = { Accept: "application/json, application/problem+json", ...extraHeaders };
  if (config.token) headers.Authorization = `Bearer ${config.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { response, json, text };
}

function networkProblem(error, fn, base) {
  const timedOut = error?.name === "TimeoutError";
  return {
    title: timedOut ? `The ${fn} function did not answer in time` : `Could not reach the ${fn} function`,
    lines: [
      String(error?.message ?? error),
      `Is it running at ${base}, and does its ALLOWED_ORIGINS include ${location.origin}?`,
    ],
  };
}

function showError(box, { title, lines = [], retryAfter }) {
  const children = [el("strong", {}, title)];
  if (lines.length) children.push(el("ul", {}, lines.map((line) => el("li", {}, line))));
  if (retryAfter) {
    children.push(el("p", { className: "retry", dataset: { retryIn: String(retryAfter), retryAfter: String(retryAfter) } }, `Retry in ${retryAfter} s.`));
  }
  box.replaceChildren(...children);
  box.hidden = false;
}

function hide(box) {
  box.hidden = true;
  box.replaceChildren();
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else node[key] = value;
  }
  node.append(...(Array.isArray(children) ? children : [children]));
  return node;
}

function randomId() {
  if (globalThis.crypto?.randomUUID && window.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function formatDuration(seconds) {
  if (seconds >= 2 * 86400) return `${Math.round(seconds / 86400)} days`;
  if (seconds >= 3600) return `${Math.round(seconds / 360) / 10} h`;
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
  return `${seconds} s`;
}
