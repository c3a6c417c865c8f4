// Headless Chromium (Debian's) driven by playwright-core, for end-to-end tests of pages a user opens.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { repoRoot } from './paths.js';

/** Screenshots the tests keep: CI uploads this folder; a failing page can be looked at. */
export const artifacts = join(repoRoot, 'test-artifacts');

/**
 * One browser for the test file (with a fresh profile of its own), closed after it. The flags keep Chromium
 * off the network it cannot reach here (updates, sync, Google's hosts): everything a page loads is local.
 */
export async function useBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  after(() => browser.close());
  return browser;
}

/** Saves what the page shows now as test-artifacts/<name>.png and returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(artifacts, { recursive: true });
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
