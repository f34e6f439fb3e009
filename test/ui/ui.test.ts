import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningServer } from '../../src/server/server.js';
import { launchChromium, openPage, screenshot } from '../helpers/browser.js';
import { dataFile } from '../helpers/paths.js';
import { type TestIndex, cocoTestIndex, startTestServer } from '../helpers/testIndex.js';

/** Ids shown on a results page, in rank order (from the "image #N" links). */
async function resultIds(page: Page): Promise<number[]> {
  const names = await page.locator('[data-result] .result-name a').allTextContents();
  return names.map((n) => Number(n.replace('image #', '')));
}

async function boundTexts(page: Page): Promise<string[]> {
  return page.locator('[data-bound-text]').allTextContents();
}

describe('web UI in a real browser (chromium, real server, real model)', () => {
  let server: RunningServer;
  let index: TestIndex;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string, target: Page = page) => screenshot(target, name);

  before(async () => {
    index = await cocoTestIndex();
    server = await startTestServer();
    browser = await launchChromium();
  });
  beforeEach(async () => {
    ({ context, page } = await openPage(browser));
  });
  afterEach(async () => context?.close());
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the corpus with its size and model, and pages through it', async () => {
    await page.goto(server.url);
    expect(await page.locator('h1').textContent()).to.match(/look alike/);
    const lede = await page.locator('.lede').first().textContent();
    expect(lede).to.contain(`${index.files.length} images`).and.contain('lipsim');
    const first = await page.locator('.gallery .tile-meta').allTextContents();
    expect(first).to.have.length(48);
    for (const alt of await page.locator('img:visible').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt')))) {
      expect(alt).to.be.a('string').and.not.equal('');
    }
    await shot('home');

    await page.getByRole('link', { name: /Next/ }).click();
    await page.waitForURL(/page=2/);
    const second = await page.locator('.gallery .tile-meta').allTextContents();
    expect(second).to.have.length(index.files.length - 48);
    expect(second.some((t) => first.includes(t))).to.equal(false);
    expect(await page.locator('.pager [aria-current="page"]').textContent()).to.equal('2');
    await shot('home-page-2');
  });

  it('uploads a COCO photo: it comes first at distance ≈ 0, with a certificate panel', async () => {
    const file = index.files[11];
    await page.goto(server.url);
    await page.setInputFiles('#upload-image', file);
    await Promise.all([page.waitForURL(/\/search\?upload=[0-9a-f]{64}/), page.getByRole('button', { name: 'Search', exact: true }).click()]);
    expect((await resultIds(page))[0]).to.equal(index.idOf.get(file));
    const distance = Number(await page.locator('[data-result] .metrics dd').first().textContent());
    expect(distance).to.be.below(1e-5);
    const certificate = page.locator('[data-certificate]');
    expect(await certificate.locator('h3').allTextContents()).to.include.members(['First result', 'Distances', 'Copy check']);
    // Each guarantee leads with one plain sentence; the figures wait under "details", closed.
    const firstClaim = certificate.locator('.claim').first();
    expect(await firstClaim.locator('.claim-lead').textContent()).to.match(/^(Stable: no change smaller than [\d.]+ grey levels \(out of 255\) on every pixel, or than .+, can change the first result \(#\d+\)\.|A close call: .+)$/);
    expect(await firstClaim.locator('.claim-details').evaluate((d: HTMLDetailsElement) => d.open)).to.equal(false);
    expect(await firstClaim.getByText(/‖δ‖₂ < r =/).isVisible()).to.equal(false);
    await firstClaim.getByText('Details').click();
    expect(await firstClaim.getByText(/‖δ‖₂ < r =/).isVisible()).to.equal(true);
    expect(await firstClaim.textContent()).to.match(/your image's own pixels/);
    // The copy check says what it means: the photo is in the collection, so it is a possible copy of itself.
    expect(await page.locator('[data-copy-text]').textContent()).to.match(/^Possible copy: image #\d+ could be turned into this one by a change within the budget/);
    expect(await page.locator('.result.copy .copy-tag').first().textContent()).to.equal('possible copy');
    expect(await page.locator('[data-copy-legend]').textContent()).to.match(/^Amber outline: a possible copy, an image that a change within ε = [\d.]+ \(.+\) could turn into the query; see the copy check\.$/);
    // The time line counts the embedding, done when the photo was uploaded.
    expect(await page.locator('.section-head .muted').textContent()).to.match(/^[\d.]+ ms: embedding [\d.]+ ms \(at upload\) \+ search [\d.]+ ms \+ certificate [\d.]+ ms$/);
    expect(await page.locator('.query-figure img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).to.equal(true);
    expect(await page.locator('a[href^="/attack?"]').count()).to.be.above(0);
    await shot('results-upload');
  });

  it('draws the certified top-1 budget beside the query, spread and on a patch, each with its caption', async () => {
    const id = index.idOf.get(index.files[3])!;
    await page.goto(`${server.url}/search?id=${id}`);
    const pictures = page.locator('[data-budget] [data-budget-picture]');
    expect(await pictures.count()).to.equal(2);
    for (const picture of await pictures.all()) {
      expect(await picture.locator('.budget-caption').textContent()).to.equal('Any change smaller than this one cannot change the first result.');
      const size = await picture.locator('img').evaluate((img: HTMLImageElement) => img.complete && [img.naturalWidth, img.naturalHeight, img.width]);
      expect(size).to.deep.equal([224, 224, 224]);
    }
    expect(await pictures.nth(0).locator('.budget-note').textContent()).to.match(/^Spread evenly: every value moved by [\d.]+ grey levels \(out of 255\), up and down in a checkerboard; drawn amplified \d+× so it can be seen\.$/);
    expect(await pictures.nth(1).locator('.budget-note').textContent()).to.match(/^The same budget on as few pixels as possible: .+ drawn at true size/);
    await page.locator('[data-budget]').scrollIntoViewIfNeeded();
    await shot('results-budget');
  });

  it('says plainly when the first result is a close call (a photo from outside the collection)', async () => {
    // Which outside photo gives a close call depends on the model: find one through the API (a first result
    // whose certificate covers less than one grey level on one pixel), then check the page says so.
    const candidates = readdirSync(dataFile('imagenet-sample/images')).sort().slice(0, 80);
    let closeCall: string | undefined;
    for (const name of candidates) {
      const bytes = readFileSync(dataFile(`imagenet-sample/images/${name}`));
      const res = await fetch(`${server.url}/api/search?k=10`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'Content-Type': 'image/jpeg' } });
      const body = (await res.json()) as { certificate: { radii: { perValue: { top1: { onePixelGreyLevels: number } } } } };
      if (body.certificate.radii.perValue.top1.onePixelGreyLevels < 1) {
        closeCall = name;
        break;
      }
    }
    expect(closeCall, 'no close call among the candidate photos').to.be.a('string');
    await page.goto(server.url);
    await page.setInputFiles('#upload-image', dataFile(`imagenet-sample/images/${closeCall}`));
    await Promise.all([page.waitForURL(/\/search\?upload=/), page.getByRole('button', { name: 'Search', exact: true }).click()]);
    const [first, second] = await resultIds(page);
    const lead = `A close call: the first two results (#${first} and #${second}) are almost tied, so even one grey level on a single pixel may change the first result (#${first}).`;
    expect(await page.locator('.summary').textContent()).to.equal(lead);
    expect(await page.locator('.summary').getAttribute('class')).to.contain('warn');
    expect(await page.locator('.claim').first().locator('.claim-lead').textContent()).to.equal(lead);
    expect(await page.locator('[data-copy-text]').textContent()).to.match(/^Not a copy: no image in the collection can be turned into this one by a change smaller than [\d.]+ grey levels \(out of 255\) on every pixel, or than /);
    // No possible copy, so no key to the amber outline; at a large ε every result may be a copy, and the key
    // appears in place with the outlines.
    expect(await page.locator('[data-copy-legend]').isVisible()).to.equal(false);
    expect(await page.locator('.result.copy').count()).to.equal(0);
    await shot('results-close-call');
    await page.locator('#epsilon-slider').evaluate((input: HTMLInputElement) => {
      input.value = '2';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(() => document.querySelector('[data-epsilon-text]')?.textContent?.startsWith('ε = 2:'));
    await page.locator('[data-copy-legend]').waitFor({ state: 'visible' });
    expect(await page.locator('[data-copy-legend]').textContent()).to.match(/^Amber outline: a possible copy, an image that a change within ε = 2 /);
    expect(await page.locator('.result.copy').count()).to.be.above(0);
    await shot('results-copy-legend');
  });

  it('has one unit for ε: the label, the number box, the slider and the printed value agree, within one range', async () => {
    const id = index.idOf.get(index.files[2])!;
    await page.goto(`${server.url}/search?id=${id}&epsilon=0.25`);
    expect(await page.locator('label[for="epsilon"]').textContent()).to.equal("Budget ε: the ℓ₂ size of a change to the model's input, from 0 to 2");
    const box = page.locator('#epsilon');
    const slider = page.locator('#epsilon-slider');
    expect([await box.getAttribute('min'), await box.getAttribute('max')]).to.deep.equal([await slider.getAttribute('min'), await slider.getAttribute('max')]);
    expect(await box.inputValue()).to.equal('0.25');
    expect(await slider.inputValue()).to.equal('0.25');
    expect(await page.locator('[data-epsilon-text]').textContent()).to.match(/^ε = 0\.25: a change of that ℓ₂ size is, for example, 0\.16 grey levels \(out of 255\) on every pixel, or one pixel changed by 37 grey levels\.$/);

    // The slider sets the box to its own value, and the printed value follows.
    const bounds = await boundTexts(page);
    await slider.evaluate((input: HTMLInputElement) => {
      input.value = '1.5';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(await box.inputValue()).to.equal('1.5');
    await page.waitForFunction(() => document.querySelector('[data-epsilon-text]')?.textContent?.startsWith('ε = 1.5:'));
    expect(await boundTexts(page)).to.not.deep.equal(bounds);

    // Out of the slider's range: the box refuses it, and nothing is asked of the server.
    const updated = await boundTexts(page);
    await box.fill('5');
    expect(await box.evaluate((input: HTMLInputElement) => input.checkValidity())).to.equal(false);
    await page.waitForFunction(() => document.querySelector('[data-epsilon-text]')?.textContent === 'ε must be a number from 0 to 2.');
    expect(await boundTexts(page)).to.deep.equal(updated);
    expect(await slider.inputValue()).to.equal('1.5');
    // And a page asked for a larger ε directly says which range it takes.
    const refused = await page.goto(`${server.url}/search?id=${id}&epsilon=5`);
    expect(refused!.status()).to.equal(400);
    expect(await page.locator('.lede').textContent()).to.equal('epsilon must be a number from 0 to 2 (e.g. 0.141 or 36/255)');
  });

  it('searches with an image dropped onto the search box (JS enhancement)', async () => {
    const file = index.files[30];
    await page.goto(server.url);
    const dataTransfer = await page.evaluateHandle((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
      return transfer;
    }, readFileSync(file).toString('base64'));
    await Promise.all([page.waitForURL(/\/search\?upload=/), page.dispatchEvent('[data-drop-zone]', 'drop', { dataTransfer })]);
    expect((await resultIds(page))[0]).to.equal(index.idOf.get(file));
  });

  it('searches again by a result when it is clicked', async () => {
    const start = index.idOf.get(index.files[0])!;
    await page.goto(`${server.url}/search?id=${start}`);
    const ids = await resultIds(page);
    const target = ids[1];
    await Promise.all([page.waitForURL(new RegExp(`/search\\?id=${target}$`)), page.locator('.result-thumb').nth(1).click()]);
    expect(await page.locator('h1').textContent()).to.equal(`Images like #${target}`);
    expect((await resultIds(page))[0]).to.equal(target);
    await shot('results-by-id');
  });

  it('updates the bounds in place when ε changes (JS), and through the form without JS', async () => {
    const id = index.idOf.get(index.files[2])!;
    await page.goto(`${server.url}/search?id=${id}`);
    const before = await boundTexts(page);
    await page.fill('#epsilon', '0.5');
    await page.waitForFunction((old) => document.querySelector('[data-bound-text]')?.textContent !== old, before[0]);
    const after = await boundTexts(page);
    expect(after).to.have.length(before.length);
    expect(after).to.not.deep.equal(before);
    await page.waitForURL(/epsilon=0\.5/);
    expect(await page.locator('[data-epsilon-text]').textContent()).to.contain('0.5');
    expect(await page.getByRole('link', { name: /Next/ }).getAttribute('href')).to.contain('epsilon=0.5');
    await shot('results-epsilon');

    const noJs = await browser.newContext({ javaScriptEnabled: false });
    try {
      const plain = await noJs.newPage();
      await plain.goto(`${server.url}/search?id=${id}`);
      expect(await boundTexts(plain)).to.deep.equal(before);
      await plain.fill('#epsilon', '0.5');
      await Promise.all([plain.waitForURL(/epsilon=0\.5/), plain.getByRole('button', { name: 'Update bounds' }).click()]);
      expect(await boundTexts(plain)).to.deep.equal(after);
    } finally {
      await noJs.close();
    }
  });

  it('works without JavaScript: upload form, results, paging', async () => {
    const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    try {
      const plain = await noJs.newPage();
      const file = index.files[20];
      await plain.goto(server.url);
      await plain.setInputFiles('#upload-image', file);
      await Promise.all([plain.waitForURL(/\/search\?upload=/), plain.getByRole('button', { name: 'Search', exact: true }).click()]);
      expect((await resultIds(plain))[0]).to.equal(index.idOf.get(file));
      await shot('results-phone-nojs', plain);
      await Promise.all([plain.waitForURL(/offset=10/), plain.getByRole('link', { name: /Next/ }).click()]);
      const ranks = await plain.locator('.result-name .visually-hidden').allTextContents();
      expect(ranks[0]).to.contain('Rank 11');
    } finally {
      await noJs.close();
    }
  });

  it('explains a bad upload clearly and keeps the form', async () => {
    await page.goto(server.url);
    await page.fill('#upload-k', '7');
    await page.setInputFiles('#upload-image', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just some text\n') });
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Search', exact: true }).click()]);
    expect(response.status()).to.equal(400);
    expect(await page.locator('h1').textContent()).to.equal('That upload did not work');
    expect(await page.getByRole('alert').textContent()).to.match(/not an image/);
    expect(await page.inputValue('#upload-k')).to.equal('7');
    await shot('error-upload');

    await page.setInputFiles('#upload-image', { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) });
    const [empty] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Search', exact: true }).click()]);
    expect(empty.status()).to.equal(400);
    expect(await page.getByRole('alert').textContent()).to.match(/the file is empty \(0 bytes\)/);
  });

  it('shows an image with its metadata and neighbours, and a 404 page', async () => {
    const file = index.files[4];
    const id = index.idOf.get(file)!;
    await page.goto(`${server.url}/images/${id}`);
    expect(await page.locator('h1').textContent()).to.equal(`Image #${id}`);
    const facts = await page.locator('.facts').textContent();
    expect(facts).to.contain(file).and.contain('jpeg');
    expect(await page.locator('.gallery .tile').count()).to.be.above(0);
    await shot('image-detail');

    const missing = await page.goto(`${server.url}/images/999999`);
    expect(missing!.status()).to.equal(404);
    const nowhere = await page.goto(`${server.url}/no/such/page`);
    expect(nowhere!.status()).to.equal(404);
    expect(await page.locator('h1').textContent()).to.equal('Page not found');
    await shot('not-found');
    await page.goto(`${server.url}/about`);
    expect(await page.locator('h1').textContent()).to.equal('About the guarantees');
    // Plain words first, the mathematics after them.
    expect(await page.locator('h2').allTextContents()).to.deep.equal(['In plain words', 'The mathematics']);
    expect(await page.locator('.lede').textContent()).to.match(/^Every answer comes with a promise about changes to your picture/);
    await shot('about');
  });

  it('is keyboard-navigable with a visible focus', async () => {
    await page.goto(server.url);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal('Skip to content');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).to.not.equal('none');
    await page.keyboard.press('Enter');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.tagName);
    expect(focused).to.be.oneOf(['INPUT', 'BUTTON', 'A']);
  });
});
