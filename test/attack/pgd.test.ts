import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runPgd, type AttackResult } from '../../src/attack/pgd.js';
import { AttackRequestError } from '../../src/attack/errors.js';
import { l2Norm, linfNorm } from '../../src/attack/projection.js';
import type { AttackRequest } from '../../src/attack/request.js';
import { certifyAnswer } from '../../src/certify/answerCertificate.js';
import { distanceBounds } from '../../src/certify/distanceBounds.js';
import { cosineDistance } from '../../src/certify/sphere.js';
import type { ModelName } from '../../src/model/card.js';
import { isEightBit, toEightBit } from '../../src/model/eightBit.js';
import { Embedder } from '../../src/model/embedder.js';
import { GradientModel } from '../../src/model/gradient.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { COCO_DIR } from '../helpers/paths.js';

const FLOAT_SLACK = 1e-5; // float32 inference

function chordLength(a: Float32Array, b: Float32Array): number {
  return Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
}

describe('attack/runPgd on real photos and the real models', () => {
  const models = new Map<ModelName, { gradient: GradientModel; embedder: Embedder }>();
  let photos: Float32Array[]; // the queries
  let others: Float32Array[]; // a small corpus

  before(async () => {
    const files = readdirSync(COCO_DIR).sort();
    const load = async (f: string) => (await loadModelInput(join(COCO_DIR, f))).pixels;
    photos = await Promise.all(files.slice(0, 3).map(load));
    others = await Promise.all(files.slice(3, 9).map(load));
    for (const model of ['lipsim', 'baseline'] as const) {
      models.set(model, {
        gradient: await GradientModel.open({ model, device: 'cpu', threads: 1 }),
        embedder: await Embedder.open({ model, device: 'cpu', threads: 1 }),
      });
    }
  });
  after(async () => {
    for (const { gradient, embedder } of models.values()) {
      await gradient.close();
      await embedder.close();
    }
  });

  const attack = (request: AttackRequest) => runPgd(models.get(request.model)!.gradient, request);

  function expectWithinBudget(x: Float32Array, result: AttackResult): void {
    const { adversarial, norm, epsilon } = result;
    expect(adversarial.every((v) => v >= 0 && v <= 1)).to.equal(true);
    expect(result.norms.l2).to.equal(l2Norm(x, adversarial));
    expect(result.norms.linf).to.equal(linfNorm(x, adversarial));
    expect(norm === 'l2' ? result.norms.l2 : result.norms.linf).to.be.at.most(epsilon * (1 + 1e-6));
    expect(result.norms.l2).to.be.above(0);
  }

  it('respects the l2 and l∞ budgets and the [0, 1] box exactly', async () => {
    for (const [i, norm] of (['l2', 'linf'] as const).entries()) {
      for (const randomStart of [true, false]) {
        const x = photos[i];
        const epsilon = norm === 'l2' ? 0.5 : 2 / 255;
        const result = await attack({ model: 'lipsim', pixels: x, norm, epsilon, steps: 4, randomStart, goal: { kind: 'untargeted' } });
        expectWithinBudget(x, result);
        expect(result.lossHistory).to.have.length(result.stepsRun + 1);
      }
    }
  });

  it('LipSim: the attacked distances never leave their certified intervals (sphere bound and Prop 4.1)', async () => {
    const { embedder } = models.get('lipsim')!;
    const corpus = await embedder.embed(others);
    for (const [i, x] of photos.entries()) {
      const norm = i === 2 ? 'linf' : 'l2';
      const result = await attack({ model: 'lipsim', pixels: x, norm, epsilon: norm === 'l2' ? 0.5 : 4 / 255, steps: 8, goal: { kind: 'untargeted' } });
      expectWithinBudget(x, result);
      const [clean, adv] = await embedder.embed([x, result.adversarial]);
      const budget = result.norms.l2; // ε of the bounds: the l2 size of δ whatever norm the attack used
      expect(chordLength(adv, clean)).to.be.at.most(budget + FLOAT_SLACK);
      const self = distanceBounds(0, budget);
      expect(cosineDistance(clean, adv)).to.be.at.most(Math.min(self.upper, self.prop41.upper) + FLOAT_SLACK);
      for (const y of corpus) {
        const bounds = distanceBounds(cosineDistance(clean, y), budget);
        const attacked = cosineDistance(adv, y);
        expect(attacked).to.be.within(bounds.lower - FLOAT_SLACK, bounds.upper + FLOAT_SLACK);
        expect(attacked).to.be.within(bounds.prop41.lower - FLOAT_SLACK, bounds.prop41.upper + FLOAT_SLACK);
      }
    }
  });

  it('LipSim: a targeted attack inside the certified top-1 radius cannot hijack the answer', async () => {
    const { embedder } = models.get('lipsim')!;
    const corpus = await embedder.embed(others);
    for (const x of photos.slice(0, 2)) {
      const [query] = await embedder.embed([x]);
      const ranked = corpus.map((vector, id) => ({ id, vector })).sort((a, b) => cosineDistance(query, a.vector) - cosineDistance(query, b.vector));
      // Every corpus item scored: exact scope with no other items.
      const certificate = certifyAnswer({ query, topK: ranked.slice(0, 1), challengers: ranked.slice(1), otherDistanceLowerBound: Infinity });
      const epsilon = certificate.top1Radius * (1 - 1e-3);
      const result = await attack({
        model: 'lipsim', pixels: x, norm: 'l2', epsilon, steps: 10, randomStart: true,
        goal: { kind: 'targeted', target: ranked[1].vector, rivals: ranked.filter((_, k) => k !== 1).map((r) => r.vector) },
      });
      expectWithinBudget(x, result);
      expect(result.goalReached).to.equal(false);
      const [adv] = await embedder.embed([result.adversarial]);
      const top = ranked.reduce((best, r) => (cosineDistance(adv, r.vector) < cosineDistance(adv, best.vector) ? r : best));
      expect(top.id).to.equal(ranked[0].id);
    }
  });

  it('baseline: the untargeted attack moves f further than any 1-Lipschitz model could (ε = 0.5)', async () => {
    const epsilon = 0.5;
    const shifts: number[] = [];
    for (const x of photos) {
      const result = await attack({ model: 'baseline', pixels: x, norm: 'l2', epsilon, steps: 15, goal: { kind: 'untargeted' } });
      expectWithinBudget(x, result);
      const [clean, adv] = await models.get('baseline')!.embedder.embed([x, result.adversarial]);
      shifts.push(chordLength(adv, clean));
      expect(shifts.at(-1)).to.be.closeTo(result.embeddingShift, FLOAT_SLACK);
    }
    // A 1-Lipschitz f allows ‖f(x + δ) − f(x)‖ ≤ ‖δ‖₂ ≤ ε: the baseline breaks that bound.
    expect(Math.max(...shifts)).to.be.above(epsilon);
  });

  it('eightBit: the attacked image stays on the 8-bit grid within the budget, and its embedding is the reported one', async () => {
    const x = toEightBit(photos[1]);
    const { embedder } = models.get('lipsim')!;
    for (const norm of ['l2', 'linf'] as const) {
      const epsilon = norm === 'l2' ? 1 : 4 / 255;
      const result = await attack({ model: 'lipsim', pixels: x, norm, epsilon, steps: 4, eightBit: true, goal: { kind: 'untargeted' } });
      expectWithinBudget(x, result);
      expect(isEightBit(result.adversarial)).to.equal(true);
      const [adv] = await embedder.embed([result.adversarial]);
      expect(chordLength(adv, result.adversarialEmbedding)).to.be.below(FLOAT_SLACK);
    }
    const request: AttackRequest = { model: 'lipsim', pixels: x, norm: 'l2', epsilon: 1, eightBit: true, goal: { kind: 'untargeted' } };
    for (const bad of [{ ...request, pixels: photos[1] }, { ...request, epsilon: 0.5 / 255 }]) {
      const err = await attack(bad).then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(AttackRequestError);
    }
  });

  it('rejects a request for another model than the one given and a malformed one', async () => {
    const lipsim = models.get('lipsim')!.gradient;
    const request: AttackRequest = { model: 'baseline', pixels: photos[0], norm: 'l2', epsilon: 0.5, goal: { kind: 'untargeted' } };
    for (const bad of [request, { ...request, model: 'lipsim' as const, epsilon: -1 }, { ...request, model: 'lipsim' as const, pixels: new Float32Array(10) }]) {
      const err = await runPgd(lipsim, bad).then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(AttackRequestError);
    }
  });
});
