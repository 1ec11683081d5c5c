// The People page of a partner admin in a real browser: Chromium driven by playwright-core,
// axe-core for accessibility. Run by tests/it/people.rs, which starts `portalctl serve`,
// applies a config where globex delegates its roster to alice@globex.com, and reads the
// results.
//
// Environment: BASE (the service), TOKEN (the admin token, to read the outbox), OUT_DIR
// (screenshots), NODE_MODULES (.ci/node_modules), CHROMIUM.
//
// Output: one JSON object per line, `{"check": NAME, "ok": BOOL, "detail": ...}`, then
// `{"done": true}`. Nothing leaves the machine.

import { createRequire } from "node:module";
import { readFileSync, mkdirSync } from "node:fs";
import path from "node:path";

const env = process.env;
const require = createRequire(path.join(env.NODE_MODULES, "noop.js"));
const { chromium } = require("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const BASE = env.BASE;
mkdirSync(env.OUT_DIR, { recursive: true });

function check(name, ok, detail) {
  console.log(JSON.stringify({ check: name, ok: Boolean(ok), detail: detail ?? null }));
}

async function link(email) {
  for (let i = 0; i < 100; i += 1) {
    const response = await fetch(`${BASE}/v1/outbox?recipient=${encodeURIComponent(email)}&limit=1`, {
      headers: { authorization: `Bearer ${env.TOKEN}` },
    });
    const json = await response.json();
    const match = /https?:\/\/\S+\/link\?token=[A-Za-z0-9_-]+/.exec(json?.messages?.[0]?.text ?? "");
    if (match) return match[0].replace(/^https?:\/\/[^/]+/, BASE);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no link for ${email}`);
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

const browser = await chromium.launch({
  executablePath: env.CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
});
try {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1200, height: 900 } });
  await context.route(/^https:\/\//, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>x</title>" }));
  const page = await context.newPage();
  await page.goto(`${BASE}/p/globex/sign-in`);
  await page.fill("#email", "alice@globex.com");
  await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
  await page.goto(await link("alice@globex.com"));
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await Promise.all([page.waitForNavigation(), page.click("text=Manage your organisation's people")]);
  check("the home links an admin to the People page", page.url().endsWith("/p/globex/people"), page.url());
  await axe(page, "people (empty)");

  // Invite with the keyboard only: type the address, tab to the role, the attribute and
  // the button, press Enter.
  await page.focus("#invite-email");
  await page.keyboard.type("pam@globex.com");
  await page.keyboard.press("Tab");
  const roleFocused = await page.evaluate(() => document.activeElement?.id);
  check("Tab reaches the role after the address", roleFocused === "invite-role", roleFocused);
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  const buttonFocused = await page.evaluate(() => document.activeElement?.textContent?.trim());
  check("Tab reaches the Invite button", buttonFocused === "Invite", buttonFocused);
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  const notice = (await page.locator("[role=status]").textContent()) ?? "";
  check("an invitation by keyboard is confirmed", notice.includes("Invited pam@globex.com"), notice);
  const row = await page.locator('tr[data-email="pam@globex.com"] select').inputValue();
  check("the invited person is listed with their role", row === "viewer" || row === "editor", row);
  await page.screenshot({ path: path.join(env.OUT_DIR, "people.png"), fullPage: true });
  await axe(page, "people (one person)");

  // A refused invitation says why, in an alert, and keeps what was typed.
  await page.fill("#invite-email", "eve@initech.com");
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/people/invite'] button[type=submit]")]);
  const alert = (await page.locator("[role=alert]").textContent()) ?? "";
  check("a refused invitation says why", alert.includes("domain of globex"), alert);
  check("the address typed is kept", (await page.inputValue("#invite-email")) === "eve@initech.com");
  await axe(page, "people (error)");

  await Promise.all([page.waitForNavigation(), page.click('tr[data-email="pam@globex.com"] form[action$="/people/remove"] button')]);
  check("removing takes the person off the list", (await page.locator('tr[data-email="pam@globex.com"]').count()) === 0);
  await context.close();
} catch (error) {
  check("the flow ran to its end", false, String(error?.stack ?? error));
} finally {
  await browser.close();
}
console.log(JSON.stringify({ done: true }));
