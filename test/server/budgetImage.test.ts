import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { explainRadius } from '../../src/certify/index.js';
import { spreadGain } from '../../src/compare/budgetImage.js';
import { toEightBit } from '../../src/model/eightBit.js';
import { INPUT_SIZE, loadModelInput } from '../../src/model/preprocess.js';
import { budgetView } from '../../src/server/budgetPictures.js';
import { MODEL_INPUT_VALUES, type SearchDto } from '../../src/server/presenters.js';
import type { RunningServer } from '../../src/server/server.js';
import { cocoTestIndex, startTestServer, type TestIndex } from '../helpers/testIndex.js';

const PLANE = INPUT_SIZE * INPUT_SIZE;

/** A served PNG as planar model-input values (k/255), like the model input it was drawn on. */
async function decodePlanar(png: Buffer): Promise<Float32Array> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).to.deep.equal([INPUT_SIZE, INPUT_SIZE, 3]);
  const planar = new Float32Array(3 * PLANE);
  for (let i = 0; i < PLANE; i++) for (let c = 0; c < 3; c++) planar[c * PLANE + i] = data[3 * i + c] / 255;
  return planar;
}

const l2 = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((sum, v, i) => sum + (v - b[i]) ** 2, 0));

describe('budget pictures: the certified top-1 radius drawn on the query (real server, real model)', () => {
  let server: RunningServer;
  let index: TestIndex;
  const url = (path: string) => `${server.url}${path}`;

  /** The certified top-1 radius the JSON API gives for a query (+∞ when unbounded). */
  async function radiusOf(neighbours: string): Promise<number> {
    const body = (await (await fetch(url(neighbours))).json()) as { certificate: { radii: { top1: number | null } } };
    return body.certificate.radii.top1 ?? Infinity;
  }

  async function png(path: string): Promise<Buffer> {
    const response = await fetch(url(path));
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('image/png');
    return Buffer.from(await response.arrayBuffer());
  }

  before(async () => {
    index = await cocoTestIndex();
    server = await startTestServer();
  });
  after(async () => server?.close());

  it('draws the patch form at true size: ‖served − model input‖₂ = the certified radius, on a few central pixels', async () => {
    const file = index.files[3];
    const id = index.idOf.get(file)!;
    const radius = await radiusOf(`/api/images/${id}/neighbours?k=10`);
    expect(radius).to.be.above(0).and.below(Infinity);
    const query = toEightBit((await loadModelInput(file)).pixels);
    const served = await decodePlanar(await png(`/api/images/${id}/budget.png?kind=patch&k=10`));
    // One value may be rounded to the 8-bit grid: half a grey level.
    expect(l2(served, query)).to.be.closeTo(radius, 0.5 / 255 + 1e-6);
    const changed = [...served.keys()].filter((i) => served[i] !== query[i]).map((i) => i % PLANE);
    const pixels = new Set(changed);
    expect(pixels.size).to.be.at.most(Math.ceil((radius * radius) / 0.75) + 1);
    for (const p of pixels) expect(Math.abs(Math.floor(p / INPUT_SIZE) - INPUT_SIZE / 2)).to.be.below(8);
  });

  it('draws the spread form as a checkerboard on every value, amplified by the gain the page states', async () => {
    const file = index.files[3];
    const id = index.idOf.get(file)!;
    const radius = await radiusOf(`/api/images/${id}/neighbours?k=10`);
    const gain = spreadGain(radius);
    const query = toEightBit((await loadModelInput(file)).pixels);
    const served = await decodePlanar(await png(`/api/images/${id}/budget.png?kind=spread&k=10`));
    const step = Math.round((gain * 255 * radius) / Math.sqrt(MODEL_INPUT_VALUES));
    const levels = [...served.keys()].map((i) => Math.round(255 * (served[i] - query[i])));
    // Every value moves by the same number of grey levels (one level of rounding either way), up or down.
    expect(levels.filter((d) => Math.abs(Math.abs(d) - step) <= 1).length).to.be.above(0.99 * levels.length);
    // Neighbouring pixels move in opposite directions where neither was reflected at black or white.
    const free = (i: number) => query[i] * 255 >= step + 1 && query[i] * 255 <= 254 - step;
    const pairs = [...served.keys()].filter((i) => (i % INPUT_SIZE) < INPUT_SIZE - 1 && free(i) && free(i + 1));
    expect(pairs.length).to.be.above(1000);
    expect(pairs.every((i) => Math.sign(levels[i]) === -Math.sign(levels[i + 1]))).to.equal(true);
    expect(l2(served, query) / gain).to.be.closeTo(radius, radius * (0.6 / step));
  });

  it('draws an upload by its sha256, from the upload’s own model input', async () => {
    const bytes = readFileSync(index.files[15]);
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'photo.jpg');
    const search = (await (await fetch(url('/api/search'), { method: 'POST', body: form })).json()) as { query: { sha256: string } };
    const { sha256 } = search.query;
    const radius = await radiusOf(`/api/uploads/${sha256}/neighbours`);
    const query = toEightBit((await loadModelInput(bytes)).pixels);
    const served = await decodePlanar(await png(`/api/uploads/${sha256}/budget.png?kind=patch`));
    expect(l2(served, query)).to.be.closeTo(radius, 0.5 / 255 + 1e-6);
  });

  it('answers bad requests with a JSON error, never a crash', async () => {
    const id = index.idOf.get(index.files[3])!;
    const cases: [string, number, string][] = [
      ['/api/images/abc/budget.png', 404, 'not_found'],
      ['/api/images/0/budget.png', 404, 'not_found'],
      ['/api/images/999999/budget.png', 404, 'not_found'],
      [`/api/images/${id}/budget.png?kind=wobble`, 400, 'invalid_kind'],
      [`/api/images/${id}/budget.png?epsilon=-1`, 400, 'invalid_epsilon'],
      [`/api/images/${id}/budget.png?k=0`, 400, 'invalid_k'],
      ['/api/uploads/not-a-hash/budget.png', 404, 'not_found'],
      [`/api/uploads/${'0'.repeat(64)}/budget.png`, 404, 'upload_not_found'],
    ];
    for (const [path, status, code] of cases) {
      const response = await fetch(url(path));
      expect(response.status, path).to.equal(status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code, path).to.equal(code);
    }
  });

  it('is listed in the OpenAPI description', async () => {
    const spec = (await (await fetch(url('/api/openapi.json'))).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).to.include.members(['/api/images/{id}/budget.png', '/api/uploads/{sha256}/budget.png']);
  });

  it('shows no picture when the radius is 0 or unbounded, and says why', () => {
    const answer = (top1: number | null) =>
      ({
        query: { kind: 'image', id: 4 },
        k: 10,
        offset: 0,
        epsilon: 0.1,
        certificate: { radii: { top1, perValue: { top1: top1 === null ? null : explainRadius(top1, MODEL_INPUT_VALUES) } } },
      }) as unknown as SearchDto;
    expect(budgetView(answer(0))).to.deep.equal({
      reason: 'No picture of the budget: the first result is not certified (its radius is 0), so even the smallest change may change it.',
    });
    expect(budgetView(answer(null))).to.deep.equal({
      reason: 'No picture of the budget: no change of any size can change the first result, so there is no limit to draw.',
    });
    const shown = budgetView(answer(0.3));
    expect(shown && 'pictures' in shown && shown.pictures.map((p) => p.caption)).to.deep.equal([
      'Any change smaller than this one cannot change the first result.',
      'Any change smaller than this one cannot change the first result.',
    ]);
  });
});
