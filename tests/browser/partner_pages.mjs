// Partner pages in a real browser: Chromium driven by playwright-core, axe-core for
// accessibility, oathtool for TOTP codes. Run by tests/it/partner_pages.rs, which starts
// `portalctl serve` on a loopback port, applies examples/acme and reads the results.
//
// Environment: BASE (the service), BASE_B (a second replica, for FLOW=replicas), TOKEN (the
// admin token), PORTALCTL_BIN, CONFIG_REMOVED (examples/acme without dana@globex.com),
// OUT_DIR (screenshots), NODE_MODULES (.ci/node_modules), CHROMIUM, FLOW (`all`, `smtp`
// or `replicas`); for `smtp` and `replicas`: CONFIG_FULL (examples/acme, not applied yet)
// and MAIL_DIR (where the aiosmtpd sink of tests/support/mail_sink.py stores what it
// accepts: `serve` runs with `--smtp`).
//
// Output: one JSON object per line on stdout, `{"check": NAME, "ok": BOOL, "detail": ...}`,
// then `{"done": true}`. The harness fails on any check that is not ok and on any
// expected check that is missing. No request leaves the machine: every non-loopback URL
// (the portals' logout URLs, home covers) is answered by the test itself.

import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, mkdirSync } from "node:fs";
import { inflateSync } from "node:zlib";
import path from "node:path";

const env = process.env;
const require = createRequire(path.join(env.NODE_MODULES, "noop.js"));
const { chromium } = require("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const BASE = env.BASE;
const TOKEN = env.TOKEN;
const OUT = env.OUT_DIR;
mkdirSync(OUT, { recursive: true });

let failures = 0;
function check(name, ok, detail) {
  if (!ok) failures += 1;
  console.log(JSON.stringify({ check: name, ok: Boolean(ok), detail: detail ?? null }));
}

async function api(method, url, body, base = BASE) {
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// The newest outbox message of `kind` to `email` with an id above `after`, waited for.
async function mail(email, kind, after = 0, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { json } = await api("GET", `/v1/outbox?recipient=${encodeURIComponent(email)}`);
    const found = (json?.messages ?? []).find((m) => m.kind === kind && m.id > after);
    if (found) return found;
    await sleep(100);
  }
  return null;
}

async function lastMailId() {
  const { json } = await api("GET", "/v1/outbox?limit=1");
  return json?.messages?.[0]?.id ?? 0;
}

function linkOf(message) {
  const match = /https?:\/\/\S+\/link\?token=[A-Za-z0-9_-]+/.exec(message?.text ?? "");
  return match ? match[0] : null;
}

/// `portalctl apply DIR --auto-approve` against the service at `base`.
function apply(dir, base = BASE) {
  return execFileSync(env.PORTALCTL_BIN, ["apply", dir, "--auto-approve"], {
    env: { ...env, PORTALCTL_TARGET: base, PORTALCTL_TOKEN: TOKEN, NO_COLOR: "1" },
    encoding: "utf8",
  });
}

/// The files the SMTP sink stored so far, in the order it accepted them.
function sinkFiles() {
  return readdirSync(env.MAIL_DIR).filter((name) => name.endsWith(".json")).sort();
}

/// The first message to `email` whose subject starts with `subject` among those the SMTP
/// sink accepted after the first `seen`, waited for.
async function smtpMail(email, subject, seen, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const name of sinkFiles().slice(seen)) {
      const message = JSON.parse(readFileSync(path.join(env.MAIL_DIR, name), "utf8"));
      if (message.rcpt_tos.includes(email) && message.subject.startsWith(subject)) return message;
    }
    await sleep(100);
  }
  return null;
}

function totp(secret, offsetSeconds = 0) {
  const at = Math.floor(Date.now() / 1000) + offsetSeconds;
  return execFileSync("oathtool", ["--totp", "-b", "-N", `@${at}`, secret], { encoding: "utf8" }).trim();
}

/// The RGB of pixel (x, y) of a PNG (8-bit RGB or RGBA, not interlaced: what Chromium writes).
function pixel(png, x, y) {
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

async function axe(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const report = await axe.run(document, { resultTypes: ["violations"] });
    return report.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(`axe: ${name}`, bad.length === 0, bad);
}

async function csrfOf(page) {
  return page.locator('input[name="csrf"]').first().getAttribute("value");
}

/// Asks for a sign-in link on `portal`'s page for `email`; returns the page's heading.
async function requestLink(page, portal, email) {
  await page.goto(`${BASE}/p/${portal}/sign-in`);
  await page.fill("#email", email);
  await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
  return (await page.locator("h1").textContent()).trim();
}

/// Follows a mailed link: its page, then its button. Returns the response status.
async function follow(page, link) {
  await page.goto(link.replace(/^https?:\/\/[^/]+/, BASE));
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click("button[type=submit]"),
  ]);
  return response;
}

/// Signs `email` in to `portal` through the outbox; returns the last response.
async function signIn(page, portal, email) {
  const after = await lastMailId();
  await requestLink(page, portal, email);
  const message = await mail(email, "sign_in_link", after);
  if (!message) throw new Error(`no sign-in mail for ${email}`);
  return follow(page, linkOf(message));
}

/// Enrols an authenticator on the enrolment page; returns the secret and recovery codes.
async function enrol(page) {
  const secret = (await page.locator("#totp-secret").textContent()).trim();
  const uri = await page.locator("#totp-uri").getAttribute("href");
  const qr = await page.locator(".qr svg").count();
  check("2fa: enrolment shows the otpauth URI and a QR code", uri.startsWith("otpauth://totp/") && uri.includes(`secret=${secret}`) && qr === 1, uri);
  await page.fill("#code", totp(secret));
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  const codes = await page.locator("#recovery-codes li").allTextContents();
  return { secret, codes: codes.map((c) => c.trim()) };
}

async function homeRows(page) {
  return page.$$eval("tr[data-path]", (rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll("td")].map((td) => td.textContent.trim());
      return { folder: cells[0], kind: cells[1], level: cells[2], permissions: cells[3] };
    }),
  );
}

async function expectHomeMatchesApi(page, email, label) {
  const rows = await homeRows(page);
  const portal = new URL(page.url()).pathname.split("/")[2];
  const { json } = await api("GET", `/v1/access/${encodeURIComponent(email)}?portal=${portal}`);
  const expected = json.folders.map((f) => ({
    folder: f.folder,
    kind: f.kind ?? "folder",
    level: f.level,
    permissions: (f.permissions ?? []).join(", "),
  }));
  check(`home lists exactly what GET /v1/access lists: ${label}`, JSON.stringify(rows) === JSON.stringify(expected) && rows.length > 0, { rows, expected });
}

async function newContext(browser) {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1200, height: 900 } });
  // Nothing leaves the machine: logout URLs and covers are answered here.
  await context.route(/^https:\/\//, (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Signed out</title><main><h1>Signed out</h1></main>" }),
  );
  return context;
}

async function replicasFlow(browser) {
  const context = await newContext(browser);
  const page = await context.newPage();
  const email = "bob@initech.com";
  const response = await signIn(page, "contoso", email);
  check("replicas: sign-in on replica A reaches the home", response.status() === 200 && page.url().endsWith("/p/contoso/"), page.url());
  // Removed with the share that names them (a `user:` share must name a member).
  const removed = await api(
    "POST",
    "/v1/changes",
    {
      changes: [
        { op: "delete", kind: "share", key: ["/Investors/Board", `user:${email}`] },
        { op: "delete", kind: "member", key: ["contoso", email] },
      ],
    },
    env.BASE_B,
  );
  check("replicas: the member is removed through replica B", removed.status === 200, removed.text);
  const next = await page.reload();
  check("replicas: the next page load on replica A is refused", next.status() === 403, next.status());
  await context.close();
}

/// Acceptance 1 of issue 22 with real mail: `apply` (the CLI against `serve`, or against the
/// second replica when BASE_B is set) invites a member through SMTP, the browser follows the
/// invitation, asks for a sign-in link, follows the link from the SMTP server, sees its
/// home equal `GET /v1/access/{email}?portal=`, and `apply` removing the member refuses
/// the next page load.
async function smtpFlow(browser) {
  const applyAt = env.BASE_B ?? BASE;
  const where = env.BASE_B ? "smtp, replicas" : "smtp";
  const email = "dana@globex.com";
  let seen = sinkFiles().length;
  apply(env.CONFIG_FULL, applyAt);
  const invitation = await smtpMail(email, "You are invited to", seen);
  check(`${where}: apply's invitation arrives through SMTP`, invitation !== null, sinkFiles().length);
  if (!invitation) return;
  const invited = /https?:\/\/\S*\/p\/globex\//.exec(invitation.text)?.[0] ?? "";
  check(`${where}: the invitation has both parts and links to the portal`, invited.endsWith("/p/globex/") && invitation.html.includes(invited), invitation.text);
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(invited.replace(/^https?:\/\/[^/]+/, BASE));
  check(`${where}: the invitation's link opens the sign-in page`, page.url() === `${BASE}/p/globex/sign-in`, page.url());
  seen = sinkFiles().length;
  await page.fill("#email", email);
  await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
  const signInMail = await smtpMail(email, "Your sign-in link", seen);
  const link = linkOf(signInMail);
  check(`${where}: the sign-in link arrives through SMTP`, link !== null && signInMail.html.includes(link), signInMail?.text);
  if (!link) return;
  const first = await follow(page, link);
  check(`${where}: the mailed link starts the 2FA enrolment`, first.status() === 200 && page.url().endsWith("/p/globex/2fa/enrol"), page.url());
  await enrol(page);
  await page.goto(`${BASE}/p/globex/`);
  await expectHomeMatchesApi(page, email, where);
  apply(env.CONFIG_REMOVED, applyAt);
  const refused = await page.reload();
  check(`${where}: after apply removes the member, the next page load is refused`, refused.status() === 403, refused.status());
  await context.close();
}

async function mainFlow(browser) {
  const { json: stateBody } = await api("GET", "/v1/state");
  const portals = stateBody.state.portals;

  // Sign-in pages of every portal: screenshot, background colour, accessibility.
  {
    const context = await newContext(browser);
    const page = await context.newPage();
    for (const [name, portal] of Object.entries(portals)) {
      const response = await page.goto(`${BASE}/p/${name}/sign-in`);
      const csp = response.headers()["content-security-policy"] ?? "";
      check(`sign-in page of ${name}: 200 with a CSP without script`, response.status() === 200 && csp.includes("default-src 'none'") && !csp.includes("script-src") && csp.includes("frame-ancestors 'none'"), csp);
      const file = path.join(OUT, `${name}-sign-in.png`);
      const png = await page.screenshot({ path: file });
      const seen = pixel(png, 3, 3);
      check(`sign-in background of ${name} is the portal's colour`, seen === portal.color.toLowerCase(), { seen, color: portal.color });
      await axe(page, `${name} sign-in`);
    }
    await context.close();
  }

  const context = await newContext(browser);
  const page = await context.newPage();

  // A CSRF-less post is refused, and sends nothing.
  {
    await page.goto(`${BASE}/p/globex/sign-in`);
    const before = await lastMailId();
    const bare = await page.request.post(`${BASE}/p/globex/sign-in`, { form: { email: "eli@globex.com" } });
    const wrong = await page.request.post(`${BASE}/p/globex/sign-in`, { form: { email: "eli@globex.com", csrf: "x".repeat(43) } });
    await sleep(500);
    check("a POST without the CSRF token is refused", bare.status() === 403 && wrong.status() === 403, [bare.status(), wrong.status()]);
    check("a refused POST sends no mail", (await lastMailId()) === before);
  }

  // A non-member sees the same page and gets no mail.
  {
    const before = await lastMailId();
    const memberHeading = await requestLink(page, "globex", "fay@globex.com");
    const memberText = await page.locator("main").textContent();
    const heading = await requestLink(page, "globex", "nobody@globex.com");
    const text = await page.locator("main").textContent();
    const same = heading === memberHeading && text.replace("nobody@globex.com", "X") === memberText.replace("fay@globex.com", "X");
    check("a non-member's sign-in answers the same page", same, { heading, memberHeading });
    await sleep(1000);
    const { json } = await api("GET", "/v1/outbox?recipient=nobody%40globex.com");
    check("a non-member gets no mail", json.messages.length === 0, json.messages.length);
    check("a member gets a sign-in link", (await mail("fay@globex.com", "sign_in_link", before)) !== null);
  }

  // Sign-in with 2FA enrolment, home, screenshots, then `apply` removes the member.
  {
    const after = await lastMailId();
    await requestLink(page, "globex", "dana@globex.com");
    const message = await mail("dana@globex.com", "sign_in_link", after);
    const link = linkOf(message);
    check("the sign-in mail carries a link", link !== null && message.html.includes(link.replace(/&/g, "&#38;")), message?.text);
    // A link followed on another portal's page is refused and stays usable.
    const elsewhere = await follow(page, link.replace("/p/globex/", "/p/contoso/"));
    check("a link for another portal is refused", elsewhere.status() === 400, elsewhere.status());
    const first = await follow(page, link);
    check("the link starts the 2FA enrolment", first.status() === 200 && page.url().endsWith("/p/globex/2fa/enrol"), page.url());
    await axe(page, "2fa enrolment");
    const { codes } = await enrol(page);
    check("enrolment shows recovery codes", codes.length === 8, codes);
    await axe(page, "recovery codes");
    await page.goto(`${BASE}/p/globex/`);
    check("first-login text shows on the first home", (await page.locator(".notice").count()) === 1);
    await expectHomeMatchesApi(page, "dana@globex.com", "globex");
    await page.screenshot({ path: path.join(OUT, "globex-home.png"), fullPage: true });
    await axe(page, "globex home");
    await page.reload();
    check("first-login text shows once", (await page.locator(".notice").count()) === 0);
    const reused = await follow(page, link);
    check("a reused link is refused", reused.status() === 410, reused.status());
    apply(env.CONFIG_REMOVED);
    const refused = await page.goto(`${BASE}/p/globex/`);
    check("after apply removes the member, the next page load is refused", refused.status() === 403, refused.status());
    const again = await page.goto(`${BASE}/p/globex/`);
    check("the ended session stays ended", again.status() === 200 && page.url().endsWith("/p/globex/sign-in"), page.url());
  }

  // 2FA: a later sign-in asks for a code (oathtool), then a recovery code works once.
  {
    await signIn(page, "globex", "eli@globex.com");
    const { secret, codes } = await enrol(page);
    await page.goto(`${BASE}/p/globex/`);
    // Sign out: the session ends and the browser goes to logout_url (answered locally).
    // The redirect leaves the machine in no way: the browser resolves no name but 127.0.0.1.
    const logoutUrl = (await api("GET", "/v1/portals/globex")).json.logout_url;
    const [leaving] = await Promise.all([
      page.waitForRequest((request) => !request.url().startsWith(BASE)),
      page.waitForEvent("requestfailed"),
      page.click("header form button"),
    ]);
    await page.waitForURL((url) => url.href.startsWith("chrome-error:"));
    check("sign-out goes to the portal's logout_url", leaving.url() === logoutUrl, [leaving.url(), logoutUrl]);
    const home = await page.goto(`${BASE}/p/globex/`);
    check("after sign-out the home asks to sign in", page.url().endsWith("/p/globex/sign-in"), [home.status(), page.url()]);

    await signIn(page, "globex", "eli@globex.com");
    check("a later sign-in asks for a code", page.url().endsWith("/p/globex/2fa"), page.url());
    await axe(page, "2fa code");
    await page.fill("#code", "000000");
    const wrong = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    check("a wrong code is refused", wrong[0].status() === 401, wrong[0].status());
    // The enrolment used this step's code: the next step's (within the window) is accepted.
    await page.fill("#code", totp(secret, 30));
    const good = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    check("an oathtool code signs in", good[0].status() === 200 && page.url().endsWith("/p/globex/"), page.url());

    await context.clearCookies();
    await signIn(page, "globex", "eli@globex.com");
    await page.fill("#code", codes[0]);
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    check("a recovery code signs in", page.url().endsWith("/p/globex/"), page.url());
    await context.clearCookies();
    await signIn(page, "globex", "eli@globex.com");
    await page.fill("#code", codes[0]);
    const reused = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    check("a recovery code works once", reused[0].status() === 401, reused[0].status());
  }

  // Homes of the other portals (contoso without 2FA, fabrikam with).
  {
    await context.clearCookies();
    const response = await signIn(page, "contoso", "ana@contoso.com");
    check("contoso sign-in reaches the home", response.status() === 200 && page.url().endsWith("/p/contoso/"), page.url());
    await expectHomeMatchesApi(page, "ana@contoso.com", "contoso");
    await page.screenshot({ path: path.join(OUT, "contoso-home.png"), fullPage: true });
    await axe(page, "contoso home");
    await signIn(page, "fabrikam", "chen@fabrikam.com");
    await enrol(page);
    await page.goto(`${BASE}/p/fabrikam/`);
    await expectHomeMatchesApi(page, "chen@fabrikam.com", "fabrikam");
    await page.screenshot({ path: path.join(OUT, "fabrikam-home.png"), fullPage: true });
    await axe(page, "fabrikam home");
  }

  // Sign-up with verification (globex: no approval).
  {
    await context.clearCookies();
    const email = "newbie@globex.com";
    await page.goto(`${BASE}/p/globex/sign-up`);
    await axe(page, "globex sign-up");
    await page.fill("#email", email);
    for (const select of await page.locator("main select").all()) {
      await select.selectOption({ index: 1 });
    }
    const after = await lastMailId();
    const [sent] = await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
    check("sign-up answers that a verification link was sent", sent.status() === 202, [sent.status(), await page.locator("main").textContent()]);
    const before = await api("GET", `/v1/portals/globex/members/${email}`);
    check("no seat exists before the address is verified", before.status === 404, before.status);
    const message = await mail(email, "sign_up_verification", after);
    const response = await follow(page, linkOf(message));
    const member = await api("GET", `/v1/portals/globex/members/${email}`);
    check("following the verification link registers the partner", member.status === 200 && member.json.source === "self_registration" && member.json.pending !== true, member.json);
    check("the new partner goes on to 2FA enrolment", response.status() === 200 && page.url().endsWith("/2fa/enrol"), page.url());
  }

  // Sign-up with approval: pending until an admin approves.
  {
    await context.clearCookies();
    const portal = (await api("GET", "/v1/portals/contoso")).json;
    portal.self_registration = {
      enabled: true,
      default_role: "viewer",
      allowed_domains: ["contoso.com"],
      approval: "required",
    };
    delete portal.from_template;
    delete portal.template;
    const put = await api("PUT", "/v1/portals/contoso", portal);
    check("contoso takes sign-ups with approval", put.status === 200 || put.status === 201, put.text);
    const email = "waiting@contoso.com";
    await page.goto(`${BASE}/p/contoso/sign-up`);
    await page.fill("#email", email);
    for (const select of await page.locator("main select").all()) {
      await select.selectOption({ index: 1 });
    }
    const after = await lastMailId();
    await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
    const message = await mail(email, "sign_up_verification", after);
    const response = await follow(page, linkOf(message));
    const heading = (await page.locator("h1").textContent()).trim();
    check("a sign-up needing approval is pending", response.status() === 202 && heading === "Awaiting approval", heading);
    const member = await api("GET", `/v1/portals/contoso/members/${email}`);
    check("the pending member is stored pending", member.json?.pending === true, member.json);
    const before = await lastMailId();
    await requestLink(page, "contoso", email);
    await sleep(1000);
    const { json } = await api("GET", `/v1/outbox?recipient=${encodeURIComponent(email)}`);
    check("a pending member gets no sign-in link", !json.messages.some((m) => m.kind === "sign_in_link" && m.id > before));
    const approved = await api("POST", `/v1/portals/contoso/members/${email}/approve`);
    check("an admin approves the registration", approved.status === 200 && approved.json.approved === true, approved.text);
    const home = await signIn(page, "contoso", email);
    check("once approved, the partner signs in", home.status() === 200 && page.url().endsWith("/p/contoso/"), page.url());
  }

  await context.close();
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM,
  headless: true,
  // No name resolves but loopback: nothing the pages link to is fetched from the network.
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
});
try {
  if (env.FLOW === "replicas") {
    await smtpFlow(browser);
    await replicasFlow(browser);
  } else if (env.FLOW === "smtp") await smtpFlow(browser);
  else await mainFlow(browser);
} catch (error) {
  check("the flow ran to its end", false, String(error?.stack ?? error));
} finally {
  await browser.close();
}
console.log(JSON.stringify({ done: true, failures }));
