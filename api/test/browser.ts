// What the console's Chromium tests share: Debian's Chromium launched headless with the flags that keep
// it quiet and offline, screenshots into HAZWATCH_TEST_SCREENSHOTS (docs/img when the docs are redone),
// and the check that a Chinese page shows no English word beyond the data the test wrote.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
const SCREENSHOTS = process.env.HAZWATCH_TEST_SCREENSHOTS;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A browser whose profile (localStorage: language, seen alarms) lives in `profile` across pages. */
export function launchPersistent(profile: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport, locale: 'zh-CN' });
}

export async function shot(page: Page, name: string, part?: Locator): Promise<void> {
  if (!SCREENSHOTS) return;
  const path = join(SCREENSHOTS, `${name}.png`);
  await (part ? part.screenshot({ path }) : page.screenshot({ path }));
}

/** Latin words on the page (or part of it) other than `data`: names, ids, units the test itself wrote. */
export async function englishIn(page: Page, data: readonly string[], part?: Locator): Promise<string[]> {
  let text = await (part ?? page.locator('body')).evaluate((el) => (el as HTMLElement).innerText);
  for (const d of [...data].sort((a, b) => b.length - a.length)) text = text.replaceAll(d, ' ');
  return [...new Set(text.match(/[A-Za-z]{2,}/g) ?? [])];
}

/** Opens the console at `url` and signs in through its form (the page shows the signed-in console next). */
export async function consoleSignIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}
