// Partner pages in a real browser, on the shared harness (`harness.mjs`). Run by
// tests/it/partner_pages.rs, which starts `portalctl serve` on a loopback port, applies
// examples/acme and reads the results.
//
// Environment (besides the harness's): DB (the SQLite file of `serve`, for FLOW=all: the
// flow ages a link and a session in it with Debian's `sqlite3`), BASE_B (a second replica, for FLOW=replicas),
// CONFIG_REMOVED (examples/acme without dana@globex.com), FLOW (`all`, `smtp` or
// `replicas`); for `smtp` and `replicas`: CONFIG_FULL (examples/acme, not applied yet) and
// MAIL_DIR (where the aiosmtpd sink of tests/support/mail_sink.py stores what it accepts:
// `serve` runs with `--smtp`).

import path from "node:path";
import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { env, BASE, OUT, check, api, sleep, mail, lastMailId, linkOf, apply, totp, pixel, axe, newContext, run, requestLink, follow, signIn, enrol, homeRows } from "./harness.mjs";

/// Runs `statement` on the SQLite file of `serve` (DB), waiting for its writer if busy.
function sql(statement) {
  execFileSync("sqlite3", ["-cmd", ".timeout 5000", env.DB, statement], { encoding: "utf8" });
}

/// What the browser reported as a Content-Security-Policy violation, in every context made by
/// `strictContext`.
const cspViolations = [];

/// A context that renders the pages under their real Content-Security-Policy (no
/// `bypassCSP`: axe is evaluated through the DevTools protocol, see `harness.mjs`) and
/// records every violation the browser reports.
async function strictContext(browser) {
  const context = await newContext(browser, { bypassCSP: false });
  context.on("console", (message) => {
    if (message.type() === "error" && message.text().includes("Content Security Policy")) {
      cspViolations.push({ url: message.page()?.url() ?? null, text: message.text() });
    }
  });
  return context;
}

/// Checks that no page broke its policy, after a control that proves violations are seen:
/// a stylesheet from a `data:` URL, which `style-src 'self'` forbids, added to a page.
async function expectNoCspViolation(page, where) {
  const before = cspViolations.length;
  await page.evaluate(() => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "data:text/css,body{}";
    document.head.append(link);
  });
  for (let i = 0; i < 50 && cspViolations.length === before; i += 1) await sleep(20);
  check(`${where}: the pages ran under their real CSP (a forbidden stylesheet is reported)`, cspViolations.length === before + 1, cspViolations.slice(before));
  const seen = cspViolations.splice(before);
  check(`${where}: no page broke its Content-Security-Policy`, cspViolations.length === 0, cspViolations);
  cspViolations.length = 0;
  return seen;
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

/// Follows a mailed link on the service at `base`: its page, then its button.
async function followAt(page, link, base) {
  await page.goto(link.replace(/^https?:\/\/[^/]+/, base));
  const [response] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  return response;
}

/// Asks for a sign-in link on `portal`'s page at `base`; returns the page's heading.
async function requestLinkAt(page, base, portal, email) {
  await page.goto(`${base}/p/${portal}/sign-in`);
  await page.fill("#email", email);
  await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
  return (await page.locator("h1").textContent()).trim();
}

/// Sessions, links, sign-up and refusals across two replicas of one PostgreSQL database
/// (BASE is replica A, BASE_B replica B; the cookies of 127.0.0.1 reach both ports).
async function replicasFlow(browser) {
  const context = await strictContext(browser);
  const page = await context.newPage();
  const email = "bob@initech.com";
  const response = await signIn(page, "contoso", email);
  check("replicas: sign-in on replica A reaches the home", response.status() === 200 && page.url().endsWith("/p/contoso/"), page.url());
  const onB = await page.goto(`${env.BASE_B}/p/contoso/`);
  check("replicas: the session started on A opens the home on B", onB.status() === 200 && page.url() === `${env.BASE_B}/p/contoso/`, [onB.status(), page.url()]);
  await page.goto(`${BASE}/p/contoso/`);
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
  const nextOnB = await page.goto(`${env.BASE_B}/p/contoso/`);
  check("replicas: the ended session opens nothing on B", nextOnB.status() === 200 && page.url().endsWith("/p/contoso/sign-in"), page.url());

  // A link asked for on A, followed on B, then reused on A.
  {
    await context.clearCookies();
    const member = "ana@contoso.com";
    const after = await lastMailId();
    await requestLinkAt(page, BASE, "contoso", member);
    const link = linkOf(await mail(member, "sign_in_link", after));
    check("replicas: a link asked for on A is mailed", link !== null, link);
    const followed = await followAt(page, link, env.BASE_B);
    check("replicas: the link followed on B signs in there", followed.status() === 200 && page.url() === `${env.BASE_B}/p/contoso/`, page.url());
    const reused = await followAt(page, link, BASE);
    check("replicas: the link reused on A is refused", reused.status() === 410, reused.status());
  }

  // A sign-up on B, verified on A.
  {
    await context.clearCookies();
    const newcomer = "replica-newbie@globex.com";
    await page.goto(`${env.BASE_B}/p/globex/sign-up`);
    await page.fill("#email", newcomer);
    for (const select of await page.locator("main select").all()) {
      await select.selectOption({ index: 1 });
    }
    const after = await lastMailId();
    const [sent] = await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
    check("replicas: a sign-up on B waits for its verification", sent.status() === 202, sent.status());
    const link = linkOf(await mail(newcomer, "sign_up_verification", after));
    const verified = await followAt(page, link, BASE);
    check("replicas: the verification followed on A registers the partner", verified.status() === 200 && page.url() === `${BASE}/p/globex/2fa/enrol`, page.url());
    const seat = await api("GET", `/v1/portals/globex/members/${newcomer}`, undefined, env.BASE_B);
    check("replicas: B sees the registration made on A", seat.status === 200 && seat.json.source === "self_registration", seat.text);
  }

  // Against B: a CSRF-less post is refused; a non-member's sign-in answers as a member's.
  {
    await context.clearCookies();
    await page.goto(`${env.BASE_B}/p/globex/sign-in`);
    const before = await lastMailId();
    const bare = await page.request.post(`${env.BASE_B}/p/globex/sign-in`, { form: { email: "eli@globex.com" } });
    check("replicas: a POST without the CSRF token to B is refused", bare.status() === 403, bare.status());
    const memberHeading = await requestLinkAt(page, env.BASE_B, "globex", "fay@globex.com");
    const memberText = await page.locator("main").textContent();
    const heading = await requestLinkAt(page, env.BASE_B, "globex", "nobody@globex.com");
    const text = await page.locator("main").textContent();
    const same = heading === memberHeading && text.replace("nobody@globex.com", "X") === memberText.replace("fay@globex.com", "X");
    check("replicas: a non-member's sign-in on B answers the same page", same, { heading, memberHeading });
    check("replicas: the member is mailed a link", (await mail("fay@globex.com", "sign_in_link", before)) !== null);
    const { json } = await api("GET", "/v1/outbox?recipient=nobody%40globex.com");
    check("replicas: the non-member is mailed nothing", json.messages.length === 0, json.messages.length);
    check("replicas: the CSRF-less POST mailed nothing", !(json.messages.some((m) => m.id > before)) && (await mail("eli@globex.com", "sign_in_link", before, 500)) === null);
  }
  await expectNoCspViolation(page, "replicas");
  await context.close();
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

  // Sign-in pages of every portal under their real CSP: screenshot, background colour
  // (which a blocked theme stylesheet would leave white), accessibility.
  {
    const context = await strictContext(browser);
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

  // Everything below runs under the pages' real CSP too.
  const context = await strictContext(browser);
  const page = await context.newPage();

  // Pages a partner meets by mistake.
  {
    const missing = await page.goto(`${BASE}/p/nope/sign-in`);
    check("an unknown portal is 404", missing.status() === 404, missing.status());
    await axe(page, "no such portal (404)");
  }

  // A CSRF-less post is refused, and sends nothing.
  {
    await page.goto(`${BASE}/p/globex/sign-in`);
    const before = await lastMailId();
    const bare = await page.request.post(`${BASE}/p/globex/sign-in`, { form: { email: "eli@globex.com" } });
    const wrong = await page.request.post(`${BASE}/p/globex/sign-in`, { form: { email: "eli@globex.com", csrf: "x".repeat(43) } });
    await sleep(500);
    check("a POST without the CSRF token is refused", bare.status() === 403 && wrong.status() === 403, [bare.status(), wrong.status()]);
    // The same through the page's own form, its CSRF cookie gone: the refusal's page.
    await page.goto(`${BASE}/p/globex/sign-in`);
    await context.clearCookies();
    await page.fill("#email", "eli@globex.com");
    const [expired] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    check("a form posted without its CSRF cookie is refused", expired.status() === 403, expired.status());
    await axe(page, "form expired (403)");
    await sleep(500);
    check("a refused POST sends no mail", (await lastMailId()) === before);
  }

  // A non-member sees the same page and gets no mail.
  {
    const before = await lastMailId();
    const memberHeading = await requestLink(page, "globex", "fay@globex.com");
    const memberText = await page.locator("main").textContent();
    await axe(page, "check your email");
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
    await axe(page, "link for another portal (400)");
    // The link's page (a button that posts the token), then the button.
    await page.goto(link.replace(/^https?:\/\/[^/]+/, BASE));
    await axe(page, "sign-in link's confirm page");
    const [first] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
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
    await axe(page, "used link (410)");
    apply(env.CONFIG_REMOVED);
    const refused = await page.goto(`${BASE}/p/globex/`);
    check("after apply removes the member, the next page load is refused", refused.status() === 403, refused.status());
    await axe(page, "no longer has access (403)");
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
    await axe(page, "wrong code (401)");
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
    // Past contoso's session_ttl (18h: the session row aged), the home asks to sign in.
    sql("UPDATE sessions SET expires_at = created_at, created_at = created_at - 18 * 3600 * 1000 WHERE portal = 'contoso' AND email = 'ana@contoso.com'");
    await page.goto(`${BASE}/p/contoso/`);
    check("a session past session_ttl asks to sign in again", page.url() === `${BASE}/p/contoso/sign-in`, page.url());
    // A link past its 15 minutes (its row aged) is refused.
    const after = await lastMailId();
    await requestLink(page, "contoso", "ana@contoso.com");
    const link = linkOf(await mail("ana@contoso.com", "sign_in_link", after));
    sql("UPDATE link_tokens SET expires_at = expires_at - 16 * 60 * 1000 WHERE email = 'ana@contoso.com' AND used_at IS NULL");
    const expired = await follow(page, link);
    const heading = (await page.locator("h1").textContent()).trim();
    check("an expired link is refused", expired.status() === 410 && heading === "This link has expired", [expired.status(), heading]);
    await axe(page, "expired link (410)");
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
    // An address at a domain the portal does not take: refused on the form, nothing sent.
    await page.fill("#email", "someone@initech.com");
    for (const select of await page.locator("main select").all()) {
      await select.selectOption({ index: 1 });
    }
    await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
    const refusal = await page.locator("main").textContent();
    check("a sign-up at a domain the portal does not take is refused on the form", refusal.includes("Use your work address"), refusal);
    await axe(page, "sign-up refused");
    await page.fill("#email", email);
    for (const select of await page.locator("main select").all()) {
      await select.selectOption({ index: 1 });
    }
    const after = await lastMailId();
    const [sent] = await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
    check("sign-up answers that a verification link was sent", sent.status() === 202, [sent.status(), await page.locator("main").textContent()]);
    await axe(page, "confirm your address (202)");
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
    await axe(page, "awaiting approval (202)");
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

  await expectNoCspViolation(page, "partner pages");
  await context.close();
}

await run(async (browser) => {
  if (env.FLOW === "replicas") {
    await smtpFlow(browser);
    await replicasFlow(browser);
  } else if (env.FLOW === "smtp") await smtpFlow(browser);
  else await mainFlow(browser);
});
