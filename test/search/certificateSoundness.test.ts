import { expect } from 'chai';
import { runPgd } from '../../src/attack/index.js';
import { cosineDistance } from '../../src/certify/index.js';
import { Embedder } from '../../src/model/embedder.js';
import { GradientModel } from '../../src/model/gradient.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { IndexReader } from '../../src/search/indexReader.js';
import { SearchService } from '../../src/search/searchService.js';
import type { SearchResult } from '../../src/search/types.js';
import { type TestIndex, cocoTestIndex } from '../helpers/testIndex.js';

/** Few PGD steps per attack: 60 attacks of 5 gradient runs each stay well under a minute on 2 idle cores. */
const STEPS = 5;
const K = 5;
/**
 * "Several times the radius": budgets this many times the certified radius, smallest first. A well-trained
 * LipSim model is flipped at the first; a barely-trained one moves far less than its Lipschitz bound allows,
 * so its radii are looser and it takes a larger multiple. Either way the radii must not be vacuous.
 */
const BEYOND = [4, 16, 64];
/** Queries the beyond-the-radius attacks try (stopping at the first changed answer). */
const BEYOND_TRIES = 20;

/**
 * The attack engine takes inputs in [0, 1] exactly; the resampler can overshoot 1 by a float32 ulp. The
 * clamped input x' is ‖x' − x‖ away from the query x the certificate is about: budgets subtract that.
 */
function clampToBox(pixels: Float32Array): { pixels: Float32Array; offset: number } {
  const clamped = pixels.map((v) => Math.min(1, Math.max(0, v)));
  let sum = 0;
  for (let i = 0; i < pixels.length; i++) sum += (clamped[i] - pixels[i]) ** 2;
  return { pixels: clamped, offset: Math.sqrt(sum) };
}

/** Nearest corpus image of an embedding, over every stored vector (exact). */
function nearestOf(embedding: Float32Array, corpus: Map<number, Float32Array>): { id: number; distance: number } {
  let best = { id: -1, distance: Infinity };
  for (const [id, vector] of corpus) {
    const distance = cosineDistance(embedding, vector);
    if (distance < best.distance || (distance === best.distance && id < best.id)) best = { id, distance };
  }
  return best;
}

/**
 * The certificates against real gradient attacks (PGD in model-input space, the space they are stated in):
 * inside the certified radius no attack may change the answer or push a distance out of its interval; well
 * outside it, attacks should succeed for some queries (else the radii would say nothing).
 */
describe('certificates under real PGD attacks', () => {
  let index: TestIndex;
  let reader: IndexReader;
  let embedder: Embedder;
  let gradient: GradientModel;
  let service: SearchService;
  const corpus = new Map<number, Float32Array>();
  const queries: { id: number; pixels: Float32Array; offset: number; clean: SearchResult }[] = [];

  before(async () => {
    index = await cocoTestIndex();
    reader = await IndexReader.open(index.dir);
    embedder = await Embedder.open({ device: 'cpu' });
    gradient = await GradientModel.open({ device: 'cpu' });
    service = new SearchService(reader, embedder);
    await reader.store.forEachVector((id, vector) => corpus.set(id, vector));
    for (const file of index.files) {
      const id = index.idOf.get(file)!;
      const clean = await service.byId(id, { k: K, offset: 0, epsilon: 0, copyCheck: false });
      queries.push({ id, ...clampToBox((await loadModelInput(file)).pixels), clean });
    }
  });
  after(async () => {
    await gradient.close();
    await embedder.close();
    await reader.close();
  });

  it('never changes a certified top-1 answer, nor pushes a distance outside its interval, at 0.99 × the radius', async () => {
    expect(queries.length).to.be.at.least(50);
    let attacked = 0;
    for (const { id, pixels, offset, clean } of queries) {
      const certificate = clean.certificate!;
      const radius = certificate.modelInput.top1;
      if (!(radius > 0 && Number.isFinite(radius))) continue; // nothing to attack: a tie, or no rival at all
      const epsilon = 0.99 * radius; // the perturbation of the query x: the attack's own budget is what is left
      expect(offset).to.be.below(0.01 * epsilon);
      const first = clean.hits[0];
      // Aim at the rival that limits the radius: the cheapest way to take the top-1 spot.
      const rivalId = certificate.limitedBy.top1?.behind ?? clean.hits[1].id;
      const result = await runPgd(gradient, {
        model: 'lipsim',
        pixels,
        norm: 'l2',
        epsilon: epsilon - offset,
        steps: STEPS,
        goal: { kind: 'targeted', target: corpus.get(rivalId)!, rivals: [corpus.get(first.id)!] },
      });
      attacked++;
      expect(result.norms.l2 + offset).to.be.at.most(epsilon);

      expect(nearestOf(result.adversarialEmbedding, corpus).id, `top-1 of query ${id}`).to.equal(first.id);
      const bounds = await service.byId(id, { k: K, offset: 0, epsilon, copyCheck: false });
      for (const hit of bounds.hits) {
        const moved = cosineDistance(result.adversarialEmbedding, corpus.get(hit.id)!);
        expect(moved, `distance to ${hit.id} for query ${id}`).to.be.within(hit.bound.lower - 1e-6, hit.bound.upper + 1e-6);
      }
    }
    expect(attacked).to.be.at.least(50);
  });

  it('does change answers for some queries at several times the radius', async () => {
    const flips: number[] = [];
    for (const { pixels, clean } of queries.slice(0, BEYOND_TRIES)) {
      const certificate = clean.certificate!;
      const radius = certificate.modelInput.top1;
      if (!(radius > 0 && Number.isFinite(radius))) continue;
      const rivalId = certificate.limitedBy.top1?.behind ?? clean.hits[1].id;
      for (const multiple of BEYOND) {
        const result = await runPgd(gradient, {
          model: 'lipsim',
          pixels,
          norm: 'l2',
          epsilon: multiple * radius,
          steps: STEPS,
          goal: { kind: 'targeted', target: corpus.get(rivalId)!, rivals: [corpus.get(clean.hits[0].id)!] },
        });
        if (nearestOf(result.adversarialEmbedding, corpus).id !== clean.hits[0].id) {
          flips.push(multiple);
          break;
        }
      }
      if (flips.length > 0) break;
    }
    expect(flips.length, `answers changed at multiples ${flips.join(', ')}`).to.be.at.least(1);
  });
});
