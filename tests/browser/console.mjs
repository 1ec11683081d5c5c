// The staff console (`/console`) in a real browser, on the shared harness (`harness.mjs`).
// Run by tests/it/console.rs, which starts `portalctl serve`, applies a copy of
// examples/acme with a `console:` section (vic viewer, ann approver, ada admin) and globex's
// sign-ups needing approval, and reads the results.
//
// Besides checks it reports values (`{"value": NAME, "data": ...}`): the *try it* YAML
// snippet, which the Rust side pastes into the config before running `plan`.
//
// Every action is done with the keyboard: Tab until the control has the focus, then Enter.

import path from "node:path";
import { BASE, OUT, check, api, mail, lastMailId, linkOf, totp, pixel, axe, newContext, run, signIn, enrol, homeRows } from "./harness.mjs";

function report(name, data) {
  console.log(JSON.stringify({ value: name, data }));
}

/// Presses Tab until `selector` has the focus (at most 300 times), then Enter; returns the
/// navigation's response, or null (a failed check) when the control is never reached.
async function pressWithKeyboard(page, selector, label) {
  await page.evaluate(() => document.activeElement?.blur());
  for (let presses = 0; presses < 300; presses += 1) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector);
    if (focused) {
      const [response] = await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
      check(`keyboard: ${label}`, true);
      return response;
    }
  }
  check(`keyboard: ${label}`, false, `Tab never reached ${selector}`);
  return null;
}

/// Presses Tab until `selector` has the focus (at most 300 times); false (a failed check)
/// when it is never reached.
async function tabTo(page, selector, label) {
  await page.evaluate(() => document.activeElement?.blur());
  for (let presses = 0; presses < 300; presses += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return true;
  }
  check(`keyboard: ${label}`, false, `Tab never reached ${selector}`);
  return false;
}

/// Posts a form from the page as its own form would (a navigation), with `fields`: for
/// the message pages a refused form leads to.
async function postFromPage(page, action, fields) {
  await Promise.all([
    page.waitForNavigation(),
    page.evaluate(([action, fields]) => {
      const form = document.createElement("form");
      form.method = "post";
      form.action = action;
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.appendChild(input);
      }
      document.body.appendChild(form);
      form.submit();
    }, [action, fields]),
  ]);
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: false });
}

async function pending(email) {
  const { json } = await api("GET", `/v1/portals/globex/members/${encodeURIComponent(email)}`);
  return json?.pending === true;
}

/// Signs a staff member in: the link from the outbox, then an authenticator enrolled with
/// an oathtool code — all with the keyboard.
async function staffSignIn(page, email, name) {
  await page.goto(`${BASE}/console/sign-in`);
  if (name === "vic") {
    await axe(page, "console sign-in");
    await screenshot(page, "console-sign-in");
  }
  const after = await lastMailId();
  await page.fill("#email", email);
  await pressWithKeyboard(page, "main button[type=submit]", `ask for a sign-in link (${name})`);
  const message = await mail(email, "sign_in_link", after);
  const link = linkOf(message);
  check(`a console sign-in link is mailed to ${name}`, link !== null && link.includes("/console/link?token="), message?.text);
  await page.goto(link.replace(/^https?:\/\/[^/]+/, BASE));
  if (name === "vic") await axe(page, "console link");
  await pressWithKeyboard(page, "main button[type=submit]", `follow the link (${name})`);
  check(`the link asks ${name} to enrol an authenticator`, page.url().endsWith("/console/2fa/enrol"), page.url());
  if (name === "vic") {
    await axe(page, "console 2fa enrolment");
    await screenshot(page, "console-2fa-enrol");
  }
  const secret = (await page.locator("#totp-secret").textContent()).trim();
  await page.fill("#code", totp(secret));
  await pressWithKeyboard(page, "main button[type=submit]", `enter the oathtool code (${name})`);
  const codes = await page.locator("#recovery-codes li").count();
  check(`${name} is shown recovery codes`, codes > 0, codes);
  if (name === "vic") await axe(page, "console recovery codes");
  const overview = await page.goto(`${BASE}/console/`);
  check(`staff sign-in (link + oathtool TOTP) opens the console: ${name}`, overview.status() === 200 && page.url().endsWith("/console/"), page.url());
  return secret;
}

const PAGES = [
  ["overview", "/console/"],
  ["roster", "/console/roster"],
  ["roster search", "/console/roster?portal=globex&q=emea"],
  ["partner", "/console/partners/alice@globex.com"],
  ["view-as", "/console/partners/alice@globex.com/view-as/globex"],
  ["portal", "/console/portals/globex"],
  ["preview sign-in", "/console/preview/globex/sign-in"],
  ["preview home", "/console/preview/globex/home"],
  ["folders", "/console/folders"],
  ["folder", "/console/folders?path=/Partners/Finance"],
  ["audit", "/console/audit"],
  ["revision", "/console/audit/1"],
  ["tokens", "/console/tokens"],
];

async function consoleFlow(browser) {
  const { json: registered } = await api("POST", "/v1/portals/globex/self-register", { email: "pat@globex.com" });
  await api("POST", "/v1/portals/globex/self-register", { email: "quinn@globex.com" });
  check("the registrations are pending", (await pending("pat@globex.com")) && (await pending("quinn@globex.com")), registered);

  // A viewer: every page passes axe; no approve button; the POST is refused.
  {
    const context = await newContext(browser);
    const page = await context.newPage();
    const vicSecret = await staffSignIn(page, "vic@acme.io", "vic");
    for (const [name, url] of PAGES) {
      const response = await page.goto(`${BASE}${url}`);
      check(`viewer opens ${name}`, response.status() === 200, response.status());
      await axe(page, `console ${name}`);
      await screenshot(page, `console-${name.replace(/ /g, "-")}`);
    }
    await page.goto(`${BASE}/console/`);
    const listed = (await page.locator("main").textContent()).includes("pat@globex.com");
    const buttons = await page.locator('form[data-action="approve"]').count();
    check("a viewer sees the pending registration without an approve button", listed && buttons === 0, { listed, buttons });
    const csrf = await page.locator('input[name="csrf"]').first().getAttribute("value");
    const refused = await page.request.post(`${BASE}/console/actions/approve`, {
      form: { csrf, portal: "globex", email: "pat@globex.com", confirm: "yes" },
      maxRedirects: 0,
    });
    check("a viewer's approve POST is refused", refused.status() === 403 && (await pending("pat@globex.com")), refused.status());

    // The pages a refused form or a wrong address leads to.
    await postFromPage(page, "/console/actions/approve", { csrf, portal: "globex", email: "pat@globex.com", confirm: "yes" });
    const notAllowed = await page.locator("h1").textContent();
    check("a viewer's approve form leads to a page saying so", notAllowed.includes("Not allowed"), notAllowed);
    await axe(page, "console not allowed");
    await page.goto(`${BASE}/console/`);
    await postFromPage(page, "/console/sign-out", { csrf: "" });
    const expired = await page.locator("h1").textContent();
    check("a form without its token leads to a page saying so", expired.includes("This form has expired"), expired);
    await axe(page, "console form expired");
    const missing = await page.goto(`${BASE}/console/partners/nobody@globex.com/view-as/globex`);
    check("view-as of no seat is 404", missing.status() === 404, missing.status());
    await axe(page, "console not found");

    // Signing out by keyboard, then the everyday sign-in: a new link and the app's code.
    await page.goto(`${BASE}/console/`);
    const out = await pressWithKeyboard(page, 'form[action="/console/sign-out"] button', "sign out");
    check("signing out ends the console session", page.url().endsWith("/console/sign-in"), [out?.status(), page.url()]);
    const after = await lastMailId();
    await page.fill("#email", "vic@acme.io");
    await pressWithKeyboard(page, "main button[type=submit]", "ask for a second sign-in link");
    await axe(page, "console check your email");
    const link = linkOf(await mail("vic@acme.io", "sign_in_link", after));
    await page.goto(link.replace(/^https?:\/\/[^/]+/, BASE));
    await pressWithKeyboard(page, "main button[type=submit]", "follow the second link");
    check("a returning staff member is asked for a code, not an enrolment", page.url().endsWith("/console/2fa"), page.url());
    await axe(page, "console 2fa");
    await screenshot(page, "console-2fa");
    // The enrolment used this period's code: the next period's is in the window.
    await page.fill("#code", totp(vicSecret, 30));
    const back = await pressWithKeyboard(page, "main button[type=submit]", "enter the code");
    check("a returning staff member signs in with an oathtool code", back?.status() === 200 && page.url().endsWith("/console/"), page.url());
    await context.close();
  }

  // An approver approves by keyboard; the partner then signs in; view-as shows their home.
  const context = await newContext(browser);
  const page = await context.newPage();
  await staffSignIn(page, "ann@acme.io", "ann");
  {
    const approve = 'form[data-action="approve"]:has(input[value="pat@globex.com"]) button';
    check("an approver sees the approve button", (await page.locator(approve).count()) === 1);
    await pressWithKeyboard(page, approve, "approve");
    await axe(page, "console confirmation");
    await screenshot(page, "console-confirm");
    check("approving asks for a confirmation first", await pending("pat@globex.com"));
    const done = await pressWithKeyboard(page, 'form[data-action="confirm-approve"] button', "confirm the approval");
    check("an approver approves a pending registration", done?.status() === 200 && !(await pending("pat@globex.com")), done?.status());
    await axe(page, "console done");
    const { json: audit } = await api("GET", "/v1/audit?limit=1000");
    const last = audit.entries[audit.entries.length - 1];
    check("the approval is audited with the staff member", last.token === "staff:ann@acme.io", last.token);

    await page.goto(`${BASE}/console/`);
    await pressWithKeyboard(page, 'form[data-action="refuse"]:has(input[value="quinn@globex.com"]) button', "refuse");
    await pressWithKeyboard(page, 'form[data-action="confirm-refuse"] button', "confirm the refusal");
    const gone = await api("GET", "/v1/portals/globex/members/quinn%40globex.com");
    check("a refused registration is removed", gone.status === 404, gone.status);
  }
  {
    const partnerContext = await newContext(browser);
    const partner = await partnerContext.newPage();
    const first = await signIn(partner, "globex", "pat@globex.com");
    check("once approved, the partner signs in", first.status() === 200 && partner.url().endsWith("/p/globex/2fa/enrol"), partner.url());
    await enrol(partner);
    await partner.goto(`${BASE}/p/globex/`);
    await partner.reload();
    const theirs = await homeRows(partner);
    const theirText = (await partner.locator("main").innerText()).trim();
    await page.goto(`${BASE}/console/partners/pat@globex.com`);
    const viewAs = await pressWithKeyboard(page, 'a[href="/console/partners/pat@globex.com/view-as/globex"]', "view as");
    check("view-as answers", viewAs?.status() === 200, viewAs?.status());
    const shown = await homeRows(page);
    const shownText = (await page.locator("main").innerText()).trim();
    check("view-as shows exactly the partner's home", theirs.length > 0 && JSON.stringify(shown) === JSON.stringify(theirs) && shownText === theirText, { shown, theirs, shownText, theirText });
    await screenshot(page, "console-view-as");
    // Its sign-out form carries no token: a click does nothing to anyone's session.
    const csrf = await page.locator('input[name="csrf"]').first().getAttribute("value");
    check("view-as carries no usable CSRF token", csrf === "", csrf);
    const still = await partner.goto(`${BASE}/p/globex/`);
    check("the partner's session is untouched by view-as", still.status() === 200 && partner.url().endsWith("/p/globex/"), partner.url());

    await page.goto(`${BASE}/console/partners/pat@globex.com`);
    await pressWithKeyboard(page, 'form[data-action="end-sessions"] button', "end sessions");
    await pressWithKeyboard(page, 'form[data-action="confirm-end-sessions"] button', "confirm ending sessions");
    const ended = await partner.goto(`${BASE}/p/globex/`);
    check("ending a partner's sessions signs them out", partner.url().endsWith("/p/globex/sign-in"), [ended.status(), partner.url()]);
    await page.goto(`${BASE}/console/partners/pat@globex.com`);
    const before = await lastMailId();
    await pressWithKeyboard(page, 'form[data-action="resend-invitation"] button', "resend an invitation");
    await pressWithKeyboard(page, 'form[data-action="confirm-resend-invitation"] button', "confirm the invitation");
    check("the invitation is mailed again", (await mail("pat@globex.com", "invitation", before)) !== null);
    await partnerContext.close();
  }

  // Try it: the preview's background follows the colour typed in; the YAML is reported.
  {
    await page.goto(`${BASE}/console/portals/globex`);
    const frame = page.locator('iframe[data-frame="preview-sign-in"]');
    await frame.scrollIntoViewIfNeeded();
    await page.waitForLoadState("load");
    const before = pixel(await frame.screenshot(), 3, 3);
    check("the preview's background is the portal's colour", before === "#0f62fe", before);
    await tabTo(page, "#try-it-color", "try it");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("#C0FFEE");
    const [tried] = await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
    check("keyboard: try it", tried.status() === 200, tried.status());
    await page.waitForLoadState("load");
    await frame.scrollIntoViewIfNeeded();
    const after = pixel(await frame.screenshot(), 3, 3);
    check("the preview's background follows the colour typed into try it", after === "#c0ffee", after);
    await screenshot(page, "console-try-it");
    await page.screenshot({ path: path.join(OUT, "console-try-it-full.png"), fullPage: true });
    await axe(page, "console try it");
    report("yaml", await page.locator('pre[data-code="yaml"]').textContent());
    report("diff", await page.locator('pre[data-code="diff"]').textContent());
  }
  await context.close();

  // An admin creates and revokes a token by keyboard.
  {
    const adminContext = await newContext(browser);
    const admin = await adminContext.newPage();
    await staffSignIn(admin, "ada@acme.io", "ada");
    await admin.goto(`${BASE}/console/tokens`);
    await admin.fill("#create-token-name", "ci-reader");
    await pressWithKeyboard(admin, 'form[data-action="create-token"] button', "create a token");
    const created = await pressWithKeyboard(admin, 'form[data-action="confirm-create-token"] button', "confirm the token");
    const shown = await admin.locator("main").textContent();
    check("an admin creates a token, shown once", created?.status() === 200 && shown.includes("pctl_"), created?.status());
    await axe(admin, "console token created");
    await admin.goto(`${BASE}/console/tokens`);
    await pressWithKeyboard(admin, 'form[data-action="revoke-token"]:has(input[value="ci-reader"]) button', "revoke a token");
    const revoked = await pressWithKeyboard(admin, 'form[data-action="confirm-revoke-token"] button', "confirm the revocation");
    check("an admin revokes the token", revoked?.status() === 200, revoked?.status());
    await admin.goto(`${BASE}/console/audit`);
    const audit = await admin.locator("main").textContent();
    check("the audit page lists the console's actions", audit.includes("create-token") && audit.includes("revoke-token") && audit.includes("view-as") && !audit.includes("pctl_"));
    await axe(admin, "console audit with actions");
    await adminContext.close();
  }
}

await run(consoleFlow);
