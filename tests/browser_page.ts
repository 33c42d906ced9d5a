/**
 * Opens a local HTML page in headless Chromium as a person would, and says what it showed.
 *
 *     deno run --allow-all tests/browser_page.ts PAGE.html SCREENSHOT.png
 *
 * Drives Debian's Chromium (`/usr/bin/chromium`, package `chromium`) with `playwright-core`,
 * in a fresh profile, with every request that is not a `file:` URL refused. Prints a JSON
 * {@linkcode BrowserPageSummary} on stdout — each figure's SVG size, how many of its marks
 * (lines, symbols, cells, texts) have a non-empty box, and its caption; the number of tables;
 * console errors and warnings; refused requests — and saves a full-page screenshot.
 *
 * A script of its own because Playwright reads `/proc` and the home folder, which Deno grants
 * only with `--allow-all`: `tests/report_test.ts` runs it as a child process.
 *
 * @module
 */
// A test-only dependency, pinned here: lib/deps.ts is loaded by everything, and loading
// playwright-core needs --allow-all.
// deno-lint-ignore no-import-prefix
import { chromium } from "npm:playwright-core@1.65.1";

/** What the page showed. */
export interface BrowserPageSummary {
  readonly figures: readonly {
    readonly width: number;
    readonly height: number;
    readonly marks: number;
    readonly caption: string;
  }[];
  readonly tables: number;
  /** Console errors and warnings, and uncaught page errors. */
  readonly problems: readonly string[];
  /** Requests for anything but `file:` URLs (all refused). */
  readonly requests: readonly string[];
}

/** Runs in the page (a string, since it runs in the browser). */
const summaryScript = `({
  tables: document.querySelectorAll("table").length,
  figures: [...document.querySelectorAll("figure svg")].map((svg) => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll(
      ".mark-line path, .mark-symbol path, .mark-rect path, .mark-text text",
    )].filter((mark) => {
      const markBox = mark.getBoundingClientRect();
      return markBox.width > 0 || markBox.height > 0;
    });
    const caption = svg.closest("figure")?.querySelector("figcaption")?.textContent ?? "";
    return { width: box.width, height: box.height, marks: marks.length, caption };
  }),
})`;

/**
 * Opens `pagePath` in headless Chromium, saves a full-page screenshot to `screenshotPath`, and
 * returns what the page showed.
 */
export async function inspectPage(
  pagePath: string,
  screenshotPath: string,
): Promise<BrowserPageSummary> {
  const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1100, height: 900 },
  });
  try {
    const problems: string[] = [];
    const requests: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file://")) return route.continue();
      requests.push(url);
      return route.abort("blockedbyclient");
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") {
        problems.push(`console ${message.type()}: ${message.text()}`);
      }
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    await page.goto(new URL(`file://${pagePath}`).href, { waitUntil: "load" });
    const { figures, tables }: Pick<BrowserPageSummary, "figures" | "tables"> = await page
      .evaluate(summaryScript);
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return { figures, tables, problems, requests };
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true });
  }
}

if (import.meta.main) {
  const [pagePath, screenshotPath] = Deno.args;
  if (pagePath === undefined || screenshotPath === undefined) {
    console.error("Usage: deno run --allow-all tests/browser_page.ts PAGE.html SCREENSHOT.png");
    Deno.exit(2);
  }
  console.log(JSON.stringify(await inspectPage(pagePath, screenshotPath)));
}
