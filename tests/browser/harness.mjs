// The shared harness of the browser tests: Chromium driven by playwright-core, axe-core
// for accessibility, oathtool for TOTP codes. Each flow (`partner_pages.mjs`,
// `console.mjs`) imports it; tests/it/browser.rs runs a flow and reads its checks.
//
// Environment: BASE (the service), TOKEN (the admin token), PORTALCTL_BIN, OUT_DIR
// (screenshots), NODE_MODULES (.ci/node_modules), CHROMIUM, FLOW (which flow of a script).
//
// Output: one JSON object per line on stdout, `{"check": NAME, "ok": BOOL, "detail": ...}`,
// then `{"done": true}`. The harness fails on any check that is not ok and on any
// expected check that is missing. No request leaves the machine: every non-loopback URL
// is answered by the test itself.

import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { inflateSync } from "node:zlib";
import path from "node:path";

export const env = process.env;
const require = createRequire(path.join(env.NODE_MODULES, "noop.js"));
const { chromium } = require("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const BASE = env.BASE;
export const TOKEN = env.TOKEN;
export const OUT = env.OUT_DIR;
mkdirSync(OUT, { recursive: true });

let failures = 0;
export function check(name, ok, detail) {
  if (!ok) failures += 1;
  console.log(JSON.stringify({ check: name, ok: Boolean(ok), detail: detail ?? null }));
}

export async function api(method, url, body, base = BASE) {
  const response = await fetch(base + url, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, json, text };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// The newest outbox message of `kind` to `email` with an id above `after`, waited for.
export async function mail(email, kind, after = 0, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { json } = await api("GET", `/v1/outbox?recipient=${encodeURIComponent(email)}`);
    const found = (json?.messages ?? []).find((m) => m.kind === kind && m.id > after);
    if (found) return found;
    await sleep(100);
  }
  return null;
}

export async function lastMailId() {
  const { json } = await api("GET", "/v1/outbox?limit=1");
  return json?.messages?.[0]?.id ?? 0;
}

export function linkOf(message) {
  const match = /https?:\/\/\S+\/link\?token=[A-Za-z0-9_-]+/.exec(message?.text ?? "");
  return match ? match[0] : null;
}

/// `portalctl apply DIR --auto-approve` against the service at `base`.
export function apply(dir, base = BASE) {
  return execFileSync(env.PORTALCTL_BIN, ["apply", dir, "--auto-approve"], {
    env: { ...env, PORTALCTL_TARGET: base, PORTALCTL_TOKEN: TOKEN, NO_COLOR: "1" },
    encoding: "utf8",
  });
}

export function totp(secret, offsetSeconds = 0) {
  const at = Math.floor(Date.now() / 1000) + offsetSeconds;
  return execFileSync("oathtool", ["--totp", "-b", "-N", `@${at}`, secret], { encoding: "utf8" }).trim();
}

/// The RGB of pixel (x, y) of a PNG (8-bit RGB or RGBA, not interlaced: what Chromium writes).
export function pixel(png, x, y) {
  let at = 8;
  let width = 0;
  let colorType = 0;
  const idat = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString("ascii", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      colorType = data[9];
    } else if (type === "IDAT") idat.push(data);
    at += 12 + length;
  }
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  let previous = Buffer.alloc(stride);
  let row = null;
  for (let r = 0; r <= y; r += 1) {
    const filter = raw[r * (stride + 1)];
    const line = raw.subarray(r * (stride + 1) + 1, (r + 1) * (stride + 1));
    row = Buffer.alloc(stride);
    for (let i = 0; i < stride; i += 1) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const b = previous[i];
      const c = i >= bpp ? previous[i - bpp] : 0;
      let value = line[i];
      if (filter === 1) value += a;
      else if (filter === 2) value += b;
      else if (filter === 3) value += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        value += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      row[i] = value & 0xff;
    }
    previous = row;
  }
  const hex = (v) => v.toString(16).padStart(2, "0");
  return `#${hex(row[x * bpp])}${hex(row[x * bpp + 1])}${hex(row[x * bpp + 2])}`;
}

/// Runs axe-core on the page. The source is evaluated through the DevTools protocol, not
/// added as a `<script>`, so it runs under the page's real Content-Security-Policy (which
/// allows no script) in a context created without `bypassCSP`.
export async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const report = await axe.run(document, { resultTypes: ["violations"] });
    return report.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(`axe: ${name}`, bad.length === 0, bad);
}

export async function csrfOf(page) {
  return page.locator('input[name="csrf"]').first().getAttribute("value");
}

/// Asks for a sign-in link on `portal`'s page for `email`; returns the page's heading.
export async function requestLink(page, portal, email) {
  await page.goto(`${BASE}/p/${portal}/sign-in`);
  await page.fill("#email", email);
  await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
  return (await page.locator("h1").textContent()).trim();
}

/// Follows a mailed link: its page, then its button. Returns the response status.
export async function follow(page, link) {
  await page.goto(link.replace(/^https?:\/\/[^/]+/, BASE));
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click("button[type=submit]"),
  ]);
  return response;
}

/// Signs `email` in to `portal` through the outbox; returns the last response.
export async function signIn(page, portal, email) {
  const after = await lastMailId();
  await requestLink(page, portal, email);
  const message = await mail(email, "sign_in_link", after);
  if (!message) throw new Error(`no sign-in mail for ${email}`);
  return follow(page, linkOf(message));
}

/// Enrols an authenticator on the enrolment page; returns the secret and recovery codes.
export async function enrol(page) {
  const secret = (await page.locator("#totp-secret").textContent()).trim();
  const uri = await page.locator("#totp-uri").getAttribute("href");
  const qr = await page.locator(".qr svg").count();
  check("2fa: enrolment shows the otpauth URI and a QR code", uri.startsWith("otpauth://totp/") && uri.includes(`secret=${secret}`) && qr === 1, uri);
  await page.fill("#code", totp(secret));
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  const codes = await page.locator("#recovery-codes li").allTextContents();
  return { secret, codes: codes.map((c) => c.trim()) };
}

export async function homeRows(page) {
  return page.$$eval("tr[data-path]", (rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll("td")].map((td) => td.textContent.trim());
      return { folder: cells[0], kind: cells[1], level: cells[2], permissions: cells[3] };
    }),
  );
}

/// A browser context; `{ bypassCSP: false }` renders pages under their real
/// Content-Security-Policy (the default bypasses it).
export async function newContext(browser, { bypassCSP = true } = {}) {
  const context = await browser.newContext({ bypassCSP, viewport: { width: 1200, height: 900 } });
  // Nothing leaves the machine: logout URLs and covers are answered here.
  await context.route(/^https:\/\//, (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Signed out</title><main><h1>Signed out</h1></main>" }),
  );
  return context;
}

/// Launches Chromium, runs `flow(browser)`, reports an exception as a failed check, and
/// ends with the `done` line the Rust side waits for.
export async function run(flow) {
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM,
    headless: true,
    // No name resolves but loopback: nothing the pages link to is fetched from the network.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
  });
  try {
    await flow(browser);
  } catch (error) {
    check("the flow ran to its end", false, String(error?.stack ?? error));
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ done: true, failures }));
}
