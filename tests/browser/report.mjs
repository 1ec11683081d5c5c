// The HTML access report in a real browser: `portalctl report --format html` opened from a
// `file://` URL (it is one self-contained file), its tables sorted by clicking and by the
// keyboard, and axe-core on the page. Run by tests/it/report.rs, which writes the report.
//
// Environment: REPORT (the HTML file), OUT_DIR (screenshots), NODE_MODULES, CHROMIUM.
// Output: as harness.mjs.

import { pathToFileURL } from "node:url";
import path from "node:path";
import { OUT, axe, check, env, run } from "./harness.mjs";

/// The text of column `column` of every body row of the table under the heading `title`.
async function column(page, title, column) {
  return page.evaluate(
    ([title, column]) => {
      const heading = [...document.querySelectorAll("h2")].find((h) => h.textContent === title);
      const table = heading.nextElementSibling;
      return [...table.tBodies[0].rows].map((row) => row.cells[column].textContent);
    },
    [title, column],
  );
}

/// The `aria-sort` of every header cell of the table under `title`.
async function sortState(page, title) {
  return page.evaluate((title) => {
    const heading = [...document.querySelectorAll("h2")].find((h) => h.textContent === title);
    return [...heading.nextElementSibling.tHead.rows[0].cells].map((th) => th.getAttribute("aria-sort"));
  }, title);
}

function header(page, title, name) {
  return page.locator(`xpath=//h2[text()="${title}"]/following-sibling::table[1]//th/button[text()="${name}"]`);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const collate = (a, b) => a.localeCompare(b, undefined, { numeric: true });

await run(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(env.REPORT).href);
  check("the report opens from a file", (await page.locator("h1").textContent()) === "Who has access to what");

  // The grants table by partner: ascending, then descending.
  const partners = await column(page, "Grants", 0);
  const ascending = [...partners].sort(collate);
  const descending = [...ascending].reverse();
  check("the grants have more than one partner to sort", new Set(partners).size > 2, partners);
  await header(page, "Grants", "path").click(); // sort by another column first
  check("clicking `path` sorts the grants by path", same(await column(page, "Grants", 5), [...(await column(page, "Grants", 5))].sort(collate)));
  await header(page, "Grants", "partner").click();
  const once = await column(page, "Grants", 0);
  const state = await sortState(page, "Grants");
  check("one click on `partner` sorts ascending", same(once, ascending), once);
  check("the sorted column is marked ascending, and only it", state[0] === "ascending" && state.slice(1).every((s) => s === null), state);
  await header(page, "Grants", "partner").click();
  const twice = await column(page, "Grants", 0);
  check("a second click sorts descending", same(twice, descending), twice);
  check("the sorted column is marked descending", (await sortState(page, "Grants"))[0] === "descending");
  await page.screenshot({ path: path.join(OUT, "report-sorted.png"), fullPage: false });

  // Rows move whole: each row keeps its cells.
  const rowsBefore = await page.$$eval("main > table tbody tr", (rows) => rows.map((r) => r.textContent).sort());
  await header(page, "Grants", "level").click();
  const rowsAfter = await page.$$eval("main > table tbody tr", (rows) => rows.map((r) => r.textContent).sort());
  check("sorting moves whole rows", same(rowsBefore, rowsAfter));

  // Counts sort as numbers (9 before 15), by the keyboard.
  const grants = (await column(page, "Per partner org", 2)).map(Number);
  check("the org counts have one- and two-digit numbers", grants.some((n) => n < 10) && grants.some((n) => n >= 10), grants);
  await header(page, "Per partner org", "grants").focus();
  await page.keyboard.press("Enter");
  const sorted = (await column(page, "Per partner org", 2)).map(Number);
  check("Enter on `grants` sorts the counts as numbers", same(sorted, [...grants].sort((a, b) => a - b)), sorted);
  const portals = await column(page, "Per portal", 0);
  await header(page, "Per portal", "name").focus();
  await page.keyboard.press("Space");
  await page.keyboard.press("Space");
  const byName = await column(page, "Per portal", 0);
  check("Space twice on `name` sorts the portals descending", same(byName, [...portals].sort(collate).reverse()), byName);

  await axe(page, "the HTML report");
  check("the report fetches nothing", requests.every((url) => url.startsWith("file://")), requests);
});
