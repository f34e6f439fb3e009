import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { isEightBit } from '../../src/model/eightBit.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { type TestIndex, cocoTestIndex } from '../helpers/testIndex.js';

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const FLOAT_SLACK = 1e-5; // float32 inference

describe('attack comparison API (real server on 127.0.0.1, real models, real COCO index)', () => {
  let server: RunningServer;
  let index: TestIndex;
  let id: number;

  const url = (path: string) => `${server.url}${path}`;
  async function json(path: string, init?: RequestInit): Promise<{ status: number; body: Json; headers: Headers }> {
    const response = await fetch(url(path), init);
    return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
  }
  const post = (path: string, body: object) => json(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  async function png(path: string): Promise<Buffer> {
    const response = await fetch(url(path));
    expect(response.status, path).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('image/png');
    return Buffer.from(await response.arrayBuffer());
  }
  /** The comparison's server-sent events until `until` holds (or the stream ends). */
  async function events(path: string, until: (status: Json) => boolean = () => false): Promise<Json[]> {
    const response = await fetch(url(path));
    expect(response.headers.get('content-type')).to.match(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const seen: Json[] = [];
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return seen;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
        if (data.length === 0) continue;
        expect(lines).to.include('event: status');
        seen.push(JSON.parse(data.join('\n')));
        if (until(seen.at(-1)!)) {
          await reader.cancel();
          return seen;
        }
      }
    }
  }
  const finished = async (attackId: string) => (await events(`/api/attacks/${attackId}/events`)).at(-1)!;
  const running = (status: Json) => status.models.some((m: Json) => m.progress && m.state === 'running');
  function expectCleanError(response: { status: number; body: Json }, status: number, code: string): void {
    expect(response.status, JSON.stringify(response.body)).to.equal(status);
    expect(Object.keys(response.body)).to.deep.equal(['error']);
    expect(response.body.error.code).to.equal(code);
    expect(response.body.error.message).to.be.a('string').and.not.match(/\/(work|tmp|home|usr)\/|\bat \w+ \(|\.ts:\d+/);
  }

  before(async () => {
    index = await cocoTestIndex();
    // One comparison at a time: the queue-full answer is cheap to provoke.
    server = await startServer({ indexDir: index.dir, port: 0, maxAttacks: 1 });
    id = index.idOf.get(index.files[4])!;
  });
  after(async () => server?.close());

  describe('an untargeted ℓ₂ attack on a corpus image', () => {
    let started: { status: number; body: Json; headers: Headers };
    let stream: Json[];
    let result: Json;

    before(async () => {
      started = await post('/api/attacks', { id, epsilon: 1, steps: 5, k: 5 });
      stream = await events(`/api/attacks/${started.body.id}/events`);
      result = (await json(`/api/attacks/${started.body.id}`)).body;
    });

    it('starts with 202 and a Location, streams its progress, and ends done', () => {
      expect(started.status, JSON.stringify(started.body)).to.equal(202);
      expect(started.headers.get('location')).to.equal(`/api/attacks/${started.body.id}`);
      expect(started.body.params).to.deep.include({ query: { kind: 'image', id }, goal: 'untargeted', target: null, norm: 'l2', epsilon: 1, steps: 5, k: 5 });
      const states = stream.map((s) => s.state);
      expect(states.at(-1)).to.equal('done');
      expect(states).to.include('running');
      for (const model of ['lipsim', 'baseline']) {
        const steps = stream.flatMap((s) => s.models.filter((m: Json) => m.model === model && m.progress).map((m: Json) => m.progress.step));
        expect(steps.length, model).to.be.above(1);
        expect(steps).to.deep.equal([...steps].sort((a, b) => a - b));
      }
      expect(result).to.deep.equal(stream.at(-1));
    });

    it('reports both models with the same fields, within the budget, on the 8-bit grid', async () => {
      expect(result.models.map((m: Json) => m.model)).to.deep.equal(['lipsim', 'baseline']);
      const clean = (await loadModelInput(await png(result.clean.image))).pixels;
      expect(isEightBit(clean)).to.equal(true);
      for (const model of result.models) {
        const { before, outcome } = model;
        expect(model.state).to.equal('done');
        expect(before.results).to.have.length(5);
        expect(outcome.after).to.have.length(5);
        expect(outcome).to.include.keys('norms', 'distance', 'bounds', 'withinBound', 'top1Changed', 'topkSetChanged', 'certificate', 'neighbourIntervals', 'urls');
        expect(outcome.norms.l2).to.be.above(0).and.at.most(1);
        expect(outcome.withinBudget).to.equal(true);
        // Measured again from the files the API hands out: the PNG is exactly the attacked model input.
        const adversarial = await png(outcome.urls.adversarial);
        expect(await sharp(adversarial).metadata()).to.include({ width: 224, height: 224, format: 'png' });
        const pixels = (await loadModelInput(adversarial)).pixels;
        let sum = 0;
        let largest = 0;
        for (let i = 0; i < pixels.length; i++) {
          sum += (pixels[i] - clean[i]) ** 2;
          largest = Math.max(largest, Math.abs(pixels[i] - clean[i]));
        }
        expect(Math.sqrt(sum)).to.equal(outcome.norms.l2);
        expect(largest).to.equal(outcome.norms.linf);
        expect(outcome.bounds.l2).to.equal(outcome.norms.l2);
        expect(outcome.bounds.sphere).to.be.closeTo(Math.min(2, outcome.norms.l2 ** 2 / 2), 1e-12);
        expect((await png(outcome.urls.perturbation)).length).to.be.above(0);
      }
    });

    it('LipSim: d(x, x+δ) within its bound, every interval held, and the certificate held or did not cover the attack', () => {
      const lipsim = result.models[0];
      const { outcome, before } = lipsim;
      expect(lipsim.robust).to.equal(true);
      expect(outcome.distance).to.be.at.most(outcome.bounds.sphere + FLOAT_SLACK);
      expect(outcome.distance).to.be.at.most(outcome.bounds.prop41 + FLOAT_SLACK);
      expect(outcome.withinBound).to.equal(true);
      expect(outcome.neighbourIntervals).to.deep.equal({ checked: 5, outside: [] });
      expect(before.certificate.scope).to.equal('exact');
      for (const key of ['top1', 'topkSet'] as const) {
        const check = outcome.certificate[key];
        const radius = before.certificate[key];
        expect(check.radius).to.equal(radius);
        expect(check.covered).to.equal(radius === null || outcome.norms.l2 < radius);
        expect(check.verdict).to.not.equal('broken');
        if (check.covered) expect(check.changed).to.equal(false);
      }
      expect(outcome.certificate.top1.changed).to.equal(outcome.top1Changed);
      expect(outcome.top1Changed).to.equal(outcome.after[0].id !== before.results[0].id);
    });

    it('the baseline has no certificate', () => {
      const baseline = result.models[1];
      expect(baseline.robust).to.equal(false);
      expect(baseline.before.certificate).to.equal(null);
      expect(baseline.outcome.certificate).to.equal(null);
    });

    it('the downloaded adversarial PNG, uploaded to /api/search, gives the answer the attack reported', async () => {
      const lipsim = result.models[0].outcome;
      const download = await fetch(url(lipsim.urls.download));
      expect(download.headers.get('content-disposition')).to.match(/^attachment; filename="?lipsearch-attack-[0-9a-f]{8}-lipsim-adversarial\.png"?$/);
      const bytes = Buffer.from(await download.arrayBuffer());
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'adversarial.png');
      const search = await json('/api/search?k=5', { method: 'POST', body: form });
      expect(search.status).to.equal(200);
      expect(search.body.results[0].id).to.equal(lipsim.after[0].id);
      expect(search.body.results.map((r: Json) => r.id)).to.deep.equal(lipsim.after.map((r: Json) => r.id));
      expect(search.body.results.map((r: Json) => r.distance)).to.deep.equal(lipsim.after.map((r: Json) => r.distance));
      // The same content address as the attack's own link to the search page.
      expect(lipsim.urls.search).to.equal(`/search?upload=${search.body.query.sha256}`);
    });
  });

  it('runs a targeted ℓ∞ attack on an uploaded photo, sent as a multipart form', async () => {
    const target = index.idOf.get(index.files[9])!;
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFileSync(index.files[12]))], { type: 'image/jpeg' }), 'query.jpg');
    for (const [name, value] of Object.entries({ goal: 'targeted', target: String(target), norm: 'linf', epsilon: '8/255', steps: '3', k: '3' })) {
      form.append(name, value);
    }
    const started = await json('/api/attacks', { method: 'POST', body: form });
    expect(started.status, JSON.stringify(started.body)).to.equal(202);
    expect(started.body.params.query.kind).to.equal('upload');
    expect(started.body.params).to.deep.include({ goal: 'targeted', target, norm: 'linf', epsilon: 8 / 255, steps: 3, k: 3 });
    const done = await finished(started.body.id);
    expect(done.state, done.error).to.equal('done');
    for (const model of done.models) {
      expect(model.outcome.norms.linf).to.be.above(0).and.at.most(8 / 255);
      expect(model.outcome.goalReached).to.be.a('boolean');
      expect(model.outcome.after).to.have.length(3);
    }
    const lipsim = done.models[0].outcome;
    expect(lipsim.withinBound).to.equal(true);
    expect(lipsim.certificate.top1.verdict).to.not.equal('broken');
  });

  it('cancels a running comparison: its attacks stop and it ends cancelled', async () => {
    const started = await post('/api/attacks', { id, epsilon: 2, steps: 200 });
    expect(started.status).to.equal(202);
    const path = `/api/attacks/${started.body.id}`;
    await events(`${path}/events`, running);
    const cancel = await json(`${path}/cancel`, { method: 'POST' });
    expect(cancel.status).to.equal(202);
    const end = await finished(started.body.id);
    expect(end.state).to.equal('cancelled');
    for (const model of end.models) {
      expect(model.state).to.equal('cancelled');
      expect(model.outcome).to.equal(null);
      expect(model.progress?.step ?? 0).to.be.below(200); // a side may be cancelled before its first step
    }
    expectCleanError(await json(`${path}/cancel`, { method: 'POST' }), 409, 'already_finished');
    expectCleanError(await json(`${path}/images/lipsim-adversarial.png`), 404, 'not_found');
  });

  it('answers 429 with a clear message while every attack slot is busy, and takes attacks again afterwards', async () => {
    const first = await post('/api/attacks', { id, epsilon: 2, steps: 200 });
    expect(first.status).to.equal(202);
    const refused = await post('/api/attacks', { id, epsilon: 1, steps: 5 });
    expectCleanError(refused, 429, 'attack_queue_full');
    expect(refused.body.error.message).to.match(/already running 1 attack comparison.*try again/);
    expect(Number(refused.headers.get('retry-after'))).to.be.above(0);
    await json(`/api/attacks/${first.body.id}/cancel`, { method: 'POST' });
    expect((await finished(first.body.id)).state).to.equal('cancelled');
    const next = await post('/api/attacks', { id, epsilon: 1, steps: 2 });
    expect(next.status).to.equal(202);
    expect((await finished(next.body.id)).state).to.equal('done');
  });

  it('answers 400 for bad parameters, 404/415 for the rest, never starting anything', async () => {
    const other = index.idOf.get(index.files[5])!;
    const bad: [object, string][] = [
      [{}, 'missing_query'],
      [{ id: 'abc' }, 'invalid_id'],
      [{ id, upload: 'a'.repeat(64) }, 'ambiguous_query'],
      [{ id, epsilon: '0' }, 'invalid_epsilon'],
      [{ id, epsilon: 'much' }, 'invalid_epsilon'],
      [{ id, epsilon: 2, norm: 'linf' }, 'invalid_epsilon'],
      [{ id, norm: 'l1' }, 'invalid_norm'],
      [{ id, steps: 0 }, 'invalid_steps'],
      [{ id, steps: 100000 }, 'invalid_steps'],
      [{ id, k: 50 }, 'invalid_k'],
      [{ id, goal: 'sideways' }, 'invalid_goal'],
      [{ id, goal: 'targeted' }, 'invalid_target'],
      [{ id, target: id }, 'invalid_target'],
      [{ id, target: 99999999 }, 'invalid_target'],
      [{ id: 99999999 }, 'unknown_image'],
    ];
    for (const [body, code] of bad) expectCleanError(await post('/api/attacks', body), 400, code);
    // Whatever is wrong with ε (negative, zero, below one grey level, too large, not a number), one message.
    const epsilonMessages = new Set<string>();
    for (const epsilon of ['-1', '0', '0.001', '101', 'much']) epsilonMessages.add((await post('/api/attacks', { id, epsilon })).body.error.message);
    epsilonMessages.add((await post('/api/attacks', { id, epsilon: '2', norm: 'linf' })).body.error.message);
    expect([...epsilonMessages]).to.deep.equal([
      'epsilon must be a number from 1/255 (one grey level, the smallest change of an 8-bit image) to 100 for l2 or 1 for linf, e.g. 0.5 or 4/255',
    ]);
    const never = await post('/api/attacks', { upload: 'f'.repeat(64), target: other });
    expectCleanError(never, 404, 'upload_not_found');
    expect(never.body.error.message).to.match(/never uploaded here, or before the server restarted/);
    expectCleanError(await json('/api/attacks', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'id=1' }), 415, 'unsupported_media_type');
    expectCleanError(await json('/api/attacks', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"id": ' }), 400, 'invalid_json');
    expectCleanError(await json('/api/attacks/not-an-id'), 404, 'not_found');
    expectCleanError(await json(`/api/attacks/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}/events`), 404, 'not_found');
  });

  it('is described in the OpenAPI document', async () => {
    const { body } = await json('/api/openapi.json');
    expect(body.paths).to.include.keys('/api/attacks', '/api/attacks/{id}', '/api/attacks/{id}/events', '/api/attacks/{id}/cancel', '/api/attacks/{id}/images/{file}');
    expect(body.paths['/api/attacks'].post.responses).to.include.keys('202', '400', '429');
    expect(body.components.schemas).to.have.property('AttackComparison');
    expect(body.components.responses).to.have.property('E429');
  });
});
