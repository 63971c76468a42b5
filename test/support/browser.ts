// A headless Chromium for the browser tests: the system's (Debian package `chromium`, which
// .ci/run installs), driven by playwright-core; never a downloaded browser. A missing Chromium
// fails the test that needs it, with the way to install it.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where tests save screenshots (gitignored). */
export const TEST_OUTPUT = join(import.meta.dirname, "../../test-output");

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh browser with a profile of its own, removed on close. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install the Debian package "chromium" (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  const profile = mkdtempSync(join(tmpdir(), "nf-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1200, height: 760 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
