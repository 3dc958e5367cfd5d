// The whole local mode through a real browser: Debian's Chromium, driven by playwright-core,
// against the console, the real Bolt app and a real PostgreSQL pair. A newcomer's first failover.

import { chmodSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/store/db.js';
import { formatDuration } from '../../src/duration.js';
import { createLogger } from '../../src/log.js';
import { startLocalMode, type LocalMode } from '../../src/local/mode.js';
import { formatLocal } from '../../src/time.js';
import { sql } from '../support/pg-pair.js';
import { makeTempDirFor } from '../support/tmp.js';

const root = path.resolve(import.meta.dirname, '../..');
const outputDir = path.join(root, 'test-output');
const CHROMIUM = '/usr/bin/chromium';

let mode: LocalMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  const parent = makeTempDirFor('console-');
  chmodSync(parent, 0o755); // the postgres user walks through it when we are root
  mode = await startLocalMode({
    dir: path.join(parent, '.lifeboat'),
    runbooksDir: path.join(root, 'runbooks'),
    port: 0,
    env: {},
    logger: createLogger({ level: 'silent' }),
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 120_000);

afterAll(async () => {
  expect(pageErrors).toEqual([]); // the console's own script never threw
  await browser?.close();
  await mode?.stop();
});

/** The workspace version the page shows (it sets it with each render). */
const shownVersion = () => page.locator('body').getAttribute('data-version');

/** Waits until the page shows a version other than `seen` (a message posted or updated). */
async function renderedAfter(seen: string | null, timeout = 30_000): Promise<void> {
  await page.waitForFunction(`document.body.dataset.version !== ${JSON.stringify(seen)}`, null, {
    timeout,
  });
}

/** Does `action` and waits until the page has shown what it changed. */
async function andRendered(action: () => Promise<void>): Promise<void> {
  const before = await shownVersion();
  await action();
  await renderedAfter(before);
}

async function type(text: string): Promise<void> {
  await page.fill('#composer', text);
  await page.press('#composer', 'Enter');
}

/**
 * The first failover run in the channel, and its header. Not simply the first message: the
 * scheduler's replication check may post its alarm (NO WRITER) between the disaster and /dr failover.
 */
const firstFailover = () =>
  page.locator('.message:not(.ephemeral)', { hasText: 'FAILOVER · ' }).first();
const runHeader = () => firstFailover().locator('.body').first();
const lastEphemeral = () => page.locator('.message.ephemeral').last();

/** The thread (header message and its replies) of the newest run of this kind. */
const runHeaderFor = (kind: string): Locator =>
  page.locator('.message:not(.ephemeral)', { hasText: `${kind} · ` }).last();

/**
 * Waits for the header of a run of this kind that a submission just started (its start can
 * take seconds on a busy machine: it measures the pair first). Fails with what the channel
 * shows instead, so a refused start says why.
 */
async function runStarted(kind: string): Promise<Locator> {
  const thread = runHeaderFor(kind);
  try {
    await thread.waitFor({ state: 'visible', timeout: 60_000 });
  } catch {
    const shown = await page.locator('.message').allInnerTexts();
    throw new Error(
      `no ${kind} run was posted; the channel ends with:\n${shown.slice(-3).join('\n---\n')}`,
    );
  }
  return thread;
}

/**
 * Works a run as alice would: Done on each step she must confirm, and at an approval request
 * bob approves (after alice's own Approve is refused, with `refuseFirst`). Ends when the run does.
 */
async function workRun(
  thread: Locator,
  options: { refuseFirst?: boolean; beforeDone?: (step: string) => Promise<void> } = {},
): Promise<boolean> {
  let refused = false;
  for (let turn = 0; turn < 80; turn += 1) {
    const seenVersion = await shownVersion();
    const header = await thread.locator('.body').first().innerText();
    if (/recovered|failed|aborted|succeeded/.test(header)) break;
    const approve = thread.locator('button[data-action-id="approval-approve"]');
    if ((await approve.count()) > 0) {
      if (options.refuseFirst && !refused) {
        // The requester cannot approve her own promotion: the engine says why, to her alone.
        await andRendered(() => approve.first().click());
        await expect.poll(() => lastEphemeral().innerText()).toMatch(/Only visible to you/);
        await expect(lastEphemeral().innerText()).resolves.toMatch(
          /you cannot approve it: the two-person rule needs someone else/,
        );
        refused = true;
      }
      await page.check('#as-U0BOB');
      await expect.poll(() => page.locator('.person.current').innerText()).toContain('bob');
      await andRendered(() => approve.first().click());
      await page.check('#as-U0ALICE');
      continue;
    }
    const failed = thread.locator('button[data-action-id="step-retry"]');
    if ((await failed.count()) > 0) {
      const step = await failed.first().locator('xpath=ancestor::article[1]').innerText();
      throw new Error(`a step failed:\n${step}`);
    }
    const done = thread.locator('button[data-action-id="step-done"]:not([disabled])');
    if ((await done.count()) > 0) {
      const step = await done.first().locator('xpath=ancestor::article[1]').innerText();
      if (step.includes('Take a fresh backup')) {
        // As the runbook says: run the backup job (the panel's button), then say Done.
        await page.click('#backup');
        await expect
          .poll(() => page.locator('#infra-said').innerText(), { timeout: 30_000 })
          .toMatch(
            /pg_dump of the \w+ \(port \d+\): \d+ bytes in s3:\/\/lifeboat-local\/postgres\//,
          );
      }
      await options.beforeDone?.(step);
      await andRendered(() => done.first().click());
      continue;
    }
    // Nothing to click yet: wait for the next message or update (read before looking).
    await renderedAfter(seenVersion, 10_000);
  }
  return refused;
}

describe('the local console in Chromium', () => {
  it('plays a real failover: status, disaster, /dr failover, refusal, approval, RTO', async () => {
    await page.goto(mode.url);
    await expect
      .poll(() => page.locator('#infra-primary').getAttribute('data-state'))
      .toBe('primary');
    await expect
      .poll(() => page.locator('#infra-app').innerText())
      .toMatch(/writing to the primary/);
    await expect(page.locator('.stand-in-banner').innerText()).resolves.toContain(
      'a stand-in for Slack',
    );

    // What the on-call engineer looks at first.
    await andRendered(() => type('/dr status'));
    await expect(lastEphemeral().innerText()).resolves.toMatch(
      /Only visible to you · \/dr status[\s\S]*payments-db — RTO 15m, RPO 1m[\s\S]*within the RPO/,
    );

    // App Home: what the bot publishes for whoever opens it.
    await page.click('#nav-home');
    await expect
      .poll(() => page.locator('#home-view').innerText())
      .toMatch(/lifeboat — disaster recovery readiness[\s\S]*payments-db/);
    await page.click('#nav-channel');

    // The region burns.
    await page.click('#disaster');
    await page.waitForSelector('#infra-primary[data-state="down"]');
    await expect.poll(() => page.locator('#infra-app').innerText()).toMatch(/^DOWN/);
    await expect.poll(() => page.locator('#infra-said').innerText()).toMatch(/was killed at/);

    // /dr failover opens the confirmation with the measured lag; only Start begins the run.
    await type('/dr failover payments-db');
    await page.waitForSelector('#modal:not([hidden]) .modal-title');
    await expect(page.locator('.modal-title').innerText()).resolves.toBe('Fail over payments-db');
    await expect.poll(() => page.locator('#modal-content').innerText()).not.toContain('measuring');
    await expect(page.locator('#modal-content').innerText()).resolves.toMatch(
      /Replication lag:.*within the RPO/,
    );
    await page.fill('#modal-content input[name="impact-time"]', 'not a time');
    await page.click('#modal-content button[type=submit]');
    await expect
      .poll(() =>
        page
          .locator('.field-error')
          .innerText()
          .catch(() => ''),
      )
      .toMatch(/HH:MM/);
    // The RTO counts from the outage: the panel gives the moment the primary died.
    const impact = /give (\S+) as the impact time/.exec(
      await page.locator('#infra-disaster').innerText(),
    )?.[1];
    expect(impact).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await page.fill('#modal-content input[name="impact-time"]', impact!);
    await page.click('#modal-content button[type=submit]');
    // The time as read comes back before anything starts; a second Start begins the run.
    await expect
      .poll(() => page.locator('#modal-content').innerText())
      .toContain(`The RTO clock starts at ${impact!.slice(0, 10)} ${impact!.slice(11, 19)} UTC`);
    expect(await page.locator('#modal-content input[name="impact-time"]').inputValue()).toBe(
      impact,
    );
    await page.click('#modal-content button[type=submit]');
    await page.waitForSelector('#modal', { state: 'hidden' });
    await expect.poll(() => runHeader().innerText()).toMatch(/FAILOVER · Regional failover/);

    // alice works the steps; the promotion waits for a second person.
    const refused = await workRun(runHeaderFor('FAILOVER'), {
      refuseFirst: true,
      beforeDone: async (step) => {
        if (!step.includes('so it reconnects')) return;
        // As the operator would: see the application write again before saying it is back.
        await expect
          .poll(() => page.locator('#infra-app').innerText())
          .toMatch(/healthy · writing to the standby/);
      },
    });
    expect(refused).toBe(true);
    const header = await runHeader().innerText();
    expect(header).toContain('recovered');
    // Slack shows the impact time in the reader's zone; the console in this machine's, named.
    const [, impactTime, zone] = formatLocal(new Date(impact!), undefined, 'minute').split(' ');
    expect(header).toContain(`since impact (${impactTime} ${zone})`);
    const run = sqliteOf(mode.serving.engine.store)!
      .db.prepare("SELECT impact_at, rto_seconds FROM runs WHERE kind = 'failover'")
      .get() as { impact_at: string; rto_seconds: number };
    expect(run.impact_at).toBe(new Date(impact!).toISOString());
    expect(run.rto_seconds).toBeGreaterThan(0);
    expect(header).toContain(`RTO ${formatDuration(run.rto_seconds)} of 15m objective`);
    await expect(firstFailover().innerText()).resolves.toContain('approved by @bob');

    // The promotion was real: the standby accepts the demo app's writes.
    await expect
      .poll(() => page.locator('#infra-standby').getAttribute('data-state'))
      .toBe('primary');
    // Nothing follows the new primary: the panel says so until the old one is rebuilt.
    await expect
      .poll(() => page.locator('#infra-protection').innerText())
      .toMatch(/^UNPROTECTED since \d\d:\d\d:\d\d UTC — no standby follows the writer/);
    await expect
      .poll(() => page.locator('#infra-app').innerText())
      .toMatch(/healthy · writing to the standby/);
    const recent = await sql<{ n: number }>(
      mode.environment.pair.standby.url,
      "SELECT count(*)::int AS n FROM payments WHERE created_at > now() - interval '5 seconds'",
    );
    expect(recent[0]?.n).toBeGreaterThan(0);

    mkdirSync(outputDir, { recursive: true });
    // The channel follows the newest message: the shot shows the run's summary with its RTO.
    const screenshot = path.join(outputDir, 'console-failover.png');
    await page.screenshot({ path: screenshot });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
  }, 120_000);

  it('fails back: the old primary rebuilt as a standby, /dr failback, the writes come home', async () => {
    await page.click('#rebuild-old-primary');
    await expect
      .poll(() => page.locator('#infra-said').innerText(), { timeout: 60_000 })
      .toMatch(
        /The old primary \(port \d+\) is now a streaming standby of the standby: payments-db is protected again/,
      );
    await expect
      .poll(() => page.locator('#infra-primary').getAttribute('data-state'))
      .toBe('standby');
    await expect.poll(() => page.locator('#infra-protection').innerText()).toMatch(/^protected/);
    await expect(page.locator('#rebuild-old-primary').isHidden()).resolves.toBe(true);

    await type('/dr failback payments-db');
    await page.waitForSelector('#modal:not([hidden]) .modal-title');
    await expect.poll(() => page.locator('#modal-content').innerText()).not.toContain('measuring');
    await page.click('#modal-content button[type=submit]');
    await page.waitForSelector('#modal', { state: 'hidden' });
    await runStarted('FAILBACK');
    await workRun(runHeaderFor('FAILBACK'), {
      beforeDone: async (step) => {
        if (!step.includes('Rebuild the DR-region database')) return;
        // The person follows the commands the step shows; in local mode the panel does it.
        await expect.poll(() => page.locator('#rebuild-old-primary').isHidden()).toBe(false);
        await page.click('#rebuild-old-primary');
        await expect
          .poll(() => page.locator('#infra-said').innerText(), { timeout: 60_000 })
          .toMatch(/The standby \(port \d+\) is now a streaming standby of the primary/);
      },
    });
    await expect(runHeaderFor('FAILBACK').locator('.body').first().innerText()).resolves.toMatch(
      /Status:\s*recovered/,
    );
    await expect
      .poll(() => page.locator('#infra-primary').getAttribute('data-state'))
      .toBe('primary');
    await expect
      .poll(() => page.locator('#infra-app').innerText())
      .toMatch(/healthy · writing to the primary/);
    // Exactly one writable node, and a standby following it again.
    await expect
      .poll(() => page.locator('#infra-standby').getAttribute('data-state'))
      .toBe('standby');
    await expect.poll(() => page.locator('#infra-protection').innerText()).toMatch(/^protected/);
  }, 120_000);

  it('walks a tabletop: a note through the reason modal, then an abort with its reason', async () => {
    await andRendered(() => type('/dr tabletop failover'));
    const tabletop = page.locator('.message:not(.ephemeral)', { hasText: 'TABLETOP' }).last();
    await expect.poll(() => tabletop.innerText()).toMatch(/TABLETOP — nothing is executed/);

    // Add note… opens a modal for this person only, naming the step; an empty note is refused
    // in the modal; what is typed reaches the run.
    await tabletop.locator('button[data-action-id="step-note"]').first().click();
    await page.waitForSelector('#modal:not([hidden]) textarea[name="reason"]');
    await expect(page.locator('#modal-content').innerText()).resolves.toMatch(/Step 1 of r-/);
    await page.click('#modal-content button[type=submit]');
    await expect
      .poll(() =>
        page
          .locator('.field-error')
          .innerText()
          .catch(() => ''),
      )
      .toContain('Write the note');
    await page.fill(
      '#modal-content textarea[name="reason"]',
      'Nobody knew who opens the bridge <!channel>',
    );
    await page.click('#modal-content button[type=submit]');
    await page.waitForSelector('#modal', { state: 'hidden' });
    await expect
      .poll(() => tabletop.innerText())
      .toMatch(/note by @alice on step 1: Nobody knew who opens the bridge <!channel>/);

    // Cancel closes a modal and changes nothing; Abort with a reason ends the run.
    await tabletop.locator('button[data-action-id="run-abort"]').click();
    await page.waitForSelector('#modal:not([hidden]) textarea[name="reason"]');
    await page.click('#modal-content button.cancel');
    await page.waitForSelector('#modal', { state: 'hidden' });
    await tabletop.locator('button[data-action-id="run-abort"]').click();
    await page.waitForSelector('#modal:not([hidden]) textarea[name="reason"]');
    await page.fill('#modal-content textarea[name="reason"]', 'time is up, findings noted');
    await page.click('#modal-content button[type=submit]');
    await expect
      .poll(() => tabletop.locator('.body').first().innerText())
      .toMatch(/Status:\s*aborted by @alice: time is up, findings noted/);
    await expect(tabletop.innerText()).resolves.toMatch(
      /Findings[\s\S]*Nobody knew who opens the bridge <!channel> — @alice/,
    );
    // The step it was on says so, and no Done/Skip/Note buttons are left on the ended run.
    await expect
      .poll(() => tabletop.innerText())
      .toMatch(/not done: aborted by @alice: time is up, findings noted/);
    expect(await tabletop.locator('button[data-action-id="step-done"]').count()).toBe(0);
  }, 60_000);

  it('fits a narrow window and brings a new message into view when the reader scrolled up', async () => {
    await page.setViewportSize({ width: 600, height: 800 });
    try {
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      // Scrolled to the top of a long channel, a reply still comes into view.
      await page.evaluate("document.getElementById('messages').scrollTop = 0");
      await andRendered(() => type('/dr status'));
      const visible = await page.evaluate<boolean>(`(() => {
        const box = document.getElementById('messages').getBoundingClientRect();
        const last = [...document.querySelectorAll('#messages > article.message')].at(-1);
        const rect = last.getBoundingClientRect();
        return rect.top < box.bottom && rect.bottom > box.top;
      })()`);
      expect(visible).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1400, height: 1000 });
    }
  });

  it('rebuilds the pair: a fresh primary takes the writes again', async () => {
    await page.click('#restore');
    await expect
      .poll(() => page.locator('#infra-said').innerText(), { timeout: 60_000 })
      .toMatch(/A fresh primary .* and streaming standby .* are up/);
    await expect
      .poll(() => page.locator('#infra-primary').getAttribute('data-state'))
      .toBe('primary');
    await expect
      .poll(() => page.locator('#infra-standby').getAttribute('data-state'))
      .toBe('standby');
    await expect
      .poll(() => page.locator('#infra-app').innerText())
      .toMatch(/writing to the primary/);
  }, 90_000);

  it('plays a partition: the primary lives on, so the failover fences it before promoting', async () => {
    await page.click('#partition');
    await expect.poll(() => page.locator('#infra-app').innerText()).toMatch(/^DOWN/);
    await expect
      .poll(() => page.locator('#infra-primary').innerText())
      .toMatch(/accepts writes · the app cannot reach it \(partition\)/);
    const impact = /give (\S+) as the impact time/.exec(
      await page.locator('#infra-disaster').innerText(),
    )?.[1];
    await type('/dr failover payments-db');
    await page.waitForSelector('#modal:not([hidden]) .modal-title');
    await expect.poll(() => page.locator('#modal-content').innerText()).not.toContain('measuring');
    await expect(page.locator('#modal-content').innerText()).resolves.toMatch(
      /Fence primary 127\.0\.0\.1:\d+: ALTER SYSTEM SET default_transaction_read_only = on/,
    );
    await page.fill('#modal-content input[name="impact-time"]', impact!);
    await page.click('#modal-content button[type=submit]');
    await expect
      .poll(() => page.locator('#modal-content').innerText())
      .toContain('RTO clock starts at');
    await page.click('#modal-content button[type=submit]');
    await page.waitForSelector('#modal', { state: 'hidden' });
    await expect
      .poll(() => runHeaderFor('FAILOVER').locator('.body').first().innerText())
      .toMatch(/Status:\s*waiting for the team/);
    await workRun(runHeaderFor('FAILOVER'));
    await expect(runHeaderFor('FAILOVER').innerText()).resolves.toMatch(
      /fenced: read-only \(a write was refused/,
    );
    await expect
      .poll(() => page.locator('#infra-primary').getAttribute('data-state'))
      .toBe('fenced');
    await expect
      .poll(() => page.locator('#infra-standby').getAttribute('data-state'))
      .toBe('primary');
    await expect
      .poll(() => page.locator('#infra-app').innerText())
      .toMatch(/healthy · writing to the standby/);
    await expect.poll(() => page.locator('#infra-protection').innerText()).toMatch(/^UNPROTECTED/);
  }, 120_000);

  it('plays a planned switchover from the panel: nothing lost, proved by WAL positions', async () => {
    await page.click('#rebuild-old-primary');
    await expect
      .poll(() => page.locator('#infra-protection').innerText(), { timeout: 60_000 })
      .toMatch(/^protected/);
    await expect(page.locator('#switchover').isHidden()).resolves.toBe(false);
    await page.click('#switchover');
    await page.waitForSelector('#modal:not([hidden]) .modal-title');
    await expect(page.locator('.modal-title').innerText()).resolves.toBe('Switch over payments-db');
    await expect.poll(() => page.locator('#modal-content').innerText()).not.toContain('measuring');
    await page.click('#modal-content button[type=submit]');
    await page.waitForSelector('#modal', { state: 'hidden' });
    await runStarted('SWITCHOVER');
    await workRun(runHeaderFor('SWITCHOVER'));
    const thread = await runHeaderFor('SWITCHOVER').innerText();
    expect(thread).toMatch(/RPO exposure: 0 bytes — the primary was fenced at \d+\/[0-9A-F]+/);
    await expect
      .poll(() => page.locator('#infra-primary').getAttribute('data-state'))
      .toBe('primary');
    await expect
      .poll(() => page.locator('#infra-standby').getAttribute('data-state'))
      .toBe('fenced');
    await expect
      .poll(() => page.locator('#infra-app').innerText())
      .toMatch(/healthy · writing to the primary/);
  }, 120_000);

  it('a second start reuses .lifeboat/: the same ports, and the channel as it was left', async () => {
    const ports = [mode.environment.pair.primary.port, mode.environment.pair.standby.port];
    const dir = mode.environment.dir;
    await mode.stop();
    mode = await startLocalMode({
      dir,
      runbooksDir: path.join(root, 'runbooks'),
      port: 0,
      env: {},
      logger: createLogger({ level: 'silent' }),
    });
    expect([mode.environment.pair.primary.port, mode.environment.pair.standby.port]).toEqual(ports);
    await page.goto(mode.url);
    await expect.poll(() => runHeader().innerText()).toMatch(/FAILOVER[\s\S]*recovered/);
    await andRendered(() => type('/dr history'));
    await expect(lastEphemeral().innerText()).resolves.toMatch(
      /\d\d:\d\d UTC\S* failover, runbook `?failover`? by @alice — succeeded, RTO/,
    );
  }, 90_000);
});
