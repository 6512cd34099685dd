// Headless Debian Chromium driven by playwright-core, for tests of pages people look at.
// .ci/run installs the chromium package; LOGWARD_CHROMIUM points elsewhere when needed.
// A missing browser fails the test with the command that installs it: never a skip.

import fs from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.LOGWARD_CHROMIUM ?? '/usr/bin/chromium';

/** Starts Chromium with no background network traffic (this host's network is closed); `extraArgs` add switches. */
export async function launchBrowser(extraArgs = []) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run "apt-get install chromium" (as .ci/run does) or set LOGWARD_CHROMIUM to a Chromium binary`);
  }
  // playwright-core gives each launch a fresh temporary profile of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** A new page that records console errors, page errors and failed requests. */
export async function watchedPage(browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // An EventSource cut when the page closes is not a problem of the page.
    if (!r.url().endsWith('/events')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  return { page, context, problems };
}
