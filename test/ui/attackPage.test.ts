import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningServer } from '../../src/server/server.js';
import { MAX_ATTACK_PAGE_STEPS } from '../../src/server/attackParams.js';
import { ARTIFACTS, launchChromium, openPage, screenshot } from '../helpers/browser.js';
import { type TestIndex, cocoTestIndex, startTestServer } from '../helpers/testIndex.js';

/** Ids of a ranked list on the comparison page, in order. */
async function rankedIds(page: Page, side: string, list: 'before' | 'after'): Promise<number[]> {
  const names = await page.locator(`[data-side="${side}"] [data-${list}] .ranked-name`).allTextContents();
  return names.map((n) => Number(n.replace('#', '')));
}

describe('attack page in a real browser (chromium, real server, real models)', () => {
  let server: RunningServer;
  let index: TestIndex;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string, target: Page = page) => screenshot(target, name);
  const finished = (target: Page = page) => target.waitForSelector('[data-attack-job] .job-status:not(.info)', { timeout: 240_000 });

  before(async () => {
    index = await cocoTestIndex();
    server = await startTestServer();
    browser = await launchChromium();
  });
  beforeEach(async () => {
    ({ context, page } = await openPage(browser, { acceptDownloads: true }));
  });
  afterEach(async () => context?.close());
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lands on a prefilled form from a result’s attack link, runs a small attack and shows both models side by side', async () => {
    const query = index.idOf.get(index.files[6])!;
    await page.goto(`${server.url}/search?id=${query}&epsilon=0.5`);
    const third = page.locator('[data-result]').nth(2);
    const target = Number((await third.locator('.result-name a').textContent())!.replace('image #', ''));
    await Promise.all([page.waitForURL(/\/attack\?/), third.getByRole('link', { name: 'attack' }).click()]);
    expect(await page.inputValue('#attack-id')).to.equal(String(query));
    expect(await page.inputValue('#attack-target')).to.equal(String(target));
    expect(await page.isChecked('input[name="goal"][value="targeted"]')).to.equal(true);
    expect(await page.inputValue('#attack-epsilon')).to.equal('0.5');
    expect(await page.locator('.preset[aria-pressed="true"]').textContent()).to.equal('0.5');
    await shot('attack-form');

    // Untargeted hides the target; ℓ∞ offers grey-level presets.
    await page.check('input[name="goal"][value="untargeted"]');
    expect(await page.isVisible('#attack-target')).to.equal(false);
    await page.check('input[name="norm"][value="linf"]');
    expect(await page.locator('.preset').allTextContents()).to.deep.equal(['1/255', '2/255', '4/255', '8/255']);
    await page.check('input[name="norm"][value="l2"]');
    await page.getByRole('button', { name: '1', exact: true }).click();
    expect(await page.inputValue('#attack-epsilon')).to.equal('1');
    await page.fill('#attack-steps', '6');
    await Promise.all([page.waitForURL(/\/attack\/jobs\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Run the attack' }).click()]);
    await page.waitForSelector('[data-side="lipsim"] progress');
    await finished();

    expect(await page.locator('.job-status').textContent()).to.contain('Finished');
    expect(await page.locator('h1').textContent()).to.equal(`Attack on corpus image #${query}`);
    for (const side of ['lipsim', 'baseline']) {
      const panel = page.locator(`[data-side="${side}"]`);
      expect(await rankedIds(page, side, 'before')).to.have.length(5);
      expect(await rankedIds(page, side, 'after')).to.have.length(5);
      expect(await panel.locator('.headline').textContent()).to.match(/Stayed put|Fooled|still #\d+, but/);
      const widths = await panel.locator('.triptych img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
      expect(widths).to.deep.equal([224, 224, 224]);
      expect(await panel.locator('[data-measures]').textContent()).to.contain('‖δ‖₂').and.contain('d(x, x+δ)');
    }
    const lipsimVerdicts = await page.locator('[data-side="lipsim"] [data-verdicts]').textContent();
    expect(lipsimVerdicts).to.contain('Distance bound held').and.not.contain('BROKEN');
    expect(await page.locator('[data-side="lipsim"] .certificate-before').textContent()).to.match(/cannot change for any ‖δ‖₂ <|not certified/);
    expect(await page.locator('[data-side="baseline"] .certificate-before').textContent()).to.contain('No certificate');
    expect(await page.locator('.verdict.loud').count()).to.equal(0);
    await shot('attack-result');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('attack-result-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // The adversarial PNG, downloaded and uploaded on the search page, gets the answer this page reported.
    const reported = await rankedIds(page, 'lipsim', 'after');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-side="lipsim"] [data-download]').click()]);
    expect(download.suggestedFilename()).to.match(/-lipsim-adversarial\.png$/);
    const file = join(ARTIFACTS, 'attack-lipsim-adversarial.png');
    await download.saveAs(file);
    await page.goto(server.url);
    await page.setInputFiles('#upload-image', file);
    await page.fill('#upload-k', '5');
    await Promise.all([page.waitForURL(/\/search\?upload=/), page.getByRole('button', { name: 'Search', exact: true }).click()]);
    const names = await page.locator('[data-result] .result-name a').allTextContents();
    expect(names.map((n) => Number(n.replace('image #', '')))).to.deep.equal(reported);
  });

  it('prefills an earlier upload as the query, with a placeholder that fits its box', async () => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFileSync(index.files[12]))], { type: 'image/jpeg' }), 'photo.jpg');
    const { query } = (await (await fetch(`${server.url}/api/search?k=1`, { method: 'POST', body: form })).json()) as { query: { sha256: string } };
    await page.goto(`${server.url}/attack?upload=${query.sha256}`);
    expect(await page.locator('.attack-thumb figcaption').first().textContent()).to.equal('Your upload');
    const placeholder = await page.locator('#attack-id').evaluate((input: HTMLInputElement) => {
      const style = getComputedStyle(input);
      const context = document.createElement('canvas').getContext('2d')!;
      context.font = style.font;
      const spinner = 20; // the number box's up/down buttons
      return {
        text: input.placeholder,
        width: context.measureText(input.placeholder).width,
        room: input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - spinner,
      };
    });
    expect(placeholder.text).to.equal('upload');
    expect(placeholder.width).to.be.below(placeholder.room);
    await shot('attack-form-upload');
  });

  it('cancels a running attack from its page', async () => {
    // Targeted, within LipSim's certified top-1 radius: it cannot reach its goal, so it runs until cancelled
    // (an untargeted attack may stop early once its loss stops improving).
    const query = index.idOf.get(index.files[8])!;
    const target = index.idOf.get(index.files[30])!;
    await page.goto(`${server.url}/attack?id=${query}&goal=targeted&target=${target}&epsilon=0.05`);
    await page.fill('#attack-steps', String(MAX_ATTACK_PAGE_STEPS));
    await Promise.all([page.waitForURL(/\/attack\/jobs\//), page.getByRole('button', { name: 'Run the attack' }).click()]);
    await page.waitForFunction(() => Number(document.querySelector<HTMLProgressElement>('[data-side="lipsim"] [data-progress]')?.value) > 0, null, {
      timeout: 240_000,
    });
    // Cancel at once (a screenshot first could let a 200-step attack finish on a fast machine).
    await page.getByRole('button', { name: 'Cancel' }).click();
    await shot('attack-running');
    // 'Cancelling' until the workers have actually stopped, then 'Cancelled'.
    await page.waitForFunction(() => document.querySelector('.job-status')?.textContent?.includes('Cancelled'), null, { timeout: 120_000 });
    expect(await page.locator('.job-status').textContent()).to.contain('Cancelled');
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).to.equal(0);
    // The side still running when the button was pressed says so (LipSim's steps are faster and may be done).
    const sides = await page.locator('[data-progress-text]').allTextContents();
    expect(sides.some((text) => text.includes('cancelled'))).to.equal(true);
    await shot('attack-cancelled');
  });
});
