import { expect } from 'chai';
import { certifyAnswer, type AnswerCertificate, type ScoredItem } from '../../src/certify/answerCertificate.js';
import { pairRadius, unscoredRadius } from '../../src/certify/orderRadius.js';
import { seededRandom } from '../../src/util/random.js';
import {
  angleOfChord, capSamples, distance, nearUnit, randomUnit, rotate, tangent, type Rng,
} from '../helpers/sphereSampling.js';

const JUST_INSIDE = 1 - 1e-9;
const JUST_OUTSIDE = 1 + 1e-6;

interface Item extends ScoredItem {
  readonly vector: number[];
}

/** A clustered corpus: near neighbours and near-ties, like real photo collections. */
function clusteredCorpus(rng: Rng, dim: number, clusters: number, perCluster: number): Item[] {
  const centres = Array.from({ length: clusters }, () => randomUnit(dim, rng));
  return centres.flatMap((c, ci) =>
    Array.from({ length: perCluster }, (_, n) => ({ id: ci * perCluster + n, vector: nearUnit(c, 0.35, rng) })),
  );
}

function ranking(v: number[], corpus: readonly Item[]): number[] {
  return [...corpus].sort((a, b) => distance(v, a.vector) - distance(v, b.vector)).map((item) => item.id);
}

type Property = 'top1' | 'topkSet' | 'topkOrder';
const radiusOf = (c: AnswerCertificate, p: Property) =>
  p === 'top1' ? c.top1Radius : p === 'topkSet' ? c.topkSetRadius : c.topkOrderRadius;

function holds(p: Property, answer: readonly number[], ranked: readonly number[]): boolean {
  const k = answer.length;
  if (p === 'top1') return ranked[0] === answer[0];
  if (p === 'topkOrder') return answer.every((id, i) => ranked[i] === id);
  const set = new Set(ranked.slice(0, k));
  return answer.every((id) => set.has(id));
}

/** The direction that moves f(q) fastest towards making `behind` overtake `ahead`. */
function worstDirection(u: number[], ahead: Item, behind: Item, rng: Rng): number[] {
  return tangent(u, ahead.vector.map((x, i) => behind.vector[i] - x), rng);
}

describe('certify/certifyAnswer', () => {
  const rng = seededRandom(3);

  describe('exact scope: candidates from an exact scan, D = the next distance', () => {
    const scenarios = Array.from({ length: 24 }, (_, n) => {
      const corpus = clusteredCorpus(rng, 4 + (n % 3), 3, 30);
      const u = nearUnit(corpus[(n * 7) % corpus.length].vector, 0.3, rng);
      const sorted = [...corpus].sort((a, b) => distance(u, a.vector) - distance(u, b.vector));
      const k = 1 + (n % 4);
      const m = n % 6;
      const certificate = certifyAnswer({
        query: u,
        topK: sorted.slice(0, k),
        challengers: sorted.slice(k, k + m),
        otherDistanceLowerBound: distance(u, sorted[k + m].vector),
      });
      return { corpus, u, scored: sorted.slice(0, k + m), answer: sorted.slice(0, k).map((s) => s.id), certificate };
    });

    it('reports exact scope and the float64 distances of the answer', () => {
      for (const { u, scored, answer, certificate } of scenarios) {
        expect(certificate.scope).to.equal('exact');
        expect(certificate.distances).to.have.length(answer.length);
        certificate.distances.forEach((d, i) => expect(d).to.be.closeTo(distance(u, scored[i].vector), 1e-12));
      }
    });

    for (const property of ['top1', 'topkSet', 'topkOrder'] as const) {
      it(`${property}: holds over the whole corpus for every u′ within the radius`, () => {
        for (const { corpus, u, scored, answer, certificate } of scenarios) {
          const r = radiusOf(certificate, property);
          expect(r).to.be.above(0);
          const probes = capSamples(u, r * JUST_INSIDE, 150, rng);
          // Also the worst direction of every scored pair, right at the edge.
          for (const a of scored) for (const b of scored) {
            if (a !== b) probes.push(rotate(u, worstDirection(u, a, b, rng), angleOfChord(r * JUST_INSIDE)));
          }
          for (const v of probes) expect(holds(property, answer, ranking(v, corpus))).to.equal(true);
        }
      });

      it(`${property}: is tight when a scored pair limits it (just beyond, the answer changes)`, () => {
        let checked = 0;
        for (const { corpus, u, answer, certificate } of scenarios) {
          const pair = certificate.limitedBy[property];
          if (pair === null || pair.behind === null) continue;
          if (property === 'top1' && pair.ahead !== answer[0]) continue; // top-1 taken from the order radius
          const byId = (id: number) => corpus.find((item) => item.id === id)!;
          const r = radiusOf(certificate, property);
          const v = rotate(u, worstDirection(u, byId(pair.ahead), byId(pair.behind), rng), angleOfChord(r * JUST_OUTSIDE));
          expect(holds(property, answer, ranking(v, corpus))).to.equal(false);
          checked++;
        }
        expect(checked).to.be.at.least(5);
      });
    }

    it('orders the radii: order ≤ set, order ≤ top-1', () => {
      for (const { certificate: c } of scenarios) {
        expect(c.topkOrderRadius).to.be.at.most(c.topkSetRadius);
        expect(c.topkOrderRadius).to.be.at.most(c.top1Radius);
      }
    });
  });

  describe('scope and edge cases', () => {
    const corpus = clusteredCorpus(rng, 5, 2, 10);
    const u = nearUnit(corpus[0].vector, 0.2, rng);
    const sorted = [...corpus].sort((a, b) => distance(u, a.vector) - distance(u, b.vector));

    it("is 'index' scope without D: relative to the scored items only", () => {
      const c = certifyAnswer({ query: u, topK: sorted.slice(0, 1), challengers: [] });
      expect(c.scope).to.equal('index');
      expect(c.top1Radius).to.equal(Infinity); // nothing scored to compare with: no claim about the corpus
      expect(c.limitedBy.top1).to.equal(null);
      const exact = certifyAnswer({ query: u, topK: sorted.slice(0, 1), challengers: [], otherDistanceLowerBound: distance(u, sorted[1].vector) });
      expect(exact.scope).to.equal('exact');
      expect(exact.top1Radius).to.be.finite;
      expect(exact.limitedBy.top1).to.deep.equal({ ahead: sorted[0].id, behind: null });
    });

    it('certifies nothing when D does not separate the answer from the unscored items', () => {
      const c = certifyAnswer({ query: u, topK: sorted.slice(0, 3), challengers: [], otherDistanceLowerBound: distance(u, sorted[2].vector) });
      expect(c.topkSetRadius).to.equal(0);
      expect(c.topkOrderRadius).to.equal(0);
    });

    it('certifies nothing when the given order is wrong (a challenger is closer than an answer item)', () => {
      const c = certifyAnswer({ query: u, topK: [sorted[1]], challengers: [sorted[0]] });
      expect(c.top1Radius).to.equal(0);
      expect(c.limitedBy.top1).to.deep.equal({ ahead: sorted[1].id, behind: sorted[0].id });
    });

    it('treats identical vectors (duplicates) as a fixed tie, not a constraint', () => {
      const duplicate = { id: 999, vector: [...sorted[0].vector] };
      const withDuplicate = certifyAnswer({ query: u, topK: [sorted[0], duplicate], challengers: [sorted[1]] });
      const single = certifyAnswer({ query: u, topK: [sorted[0]], challengers: [sorted[1]] });
      expect(withDuplicate.topkOrderRadius).to.be.above(0);
      expect(withDuplicate.topkOrderRadius).to.be.closeTo(single.topkSetRadius, 1e-15);
    });

    it('rejects non-unit vectors, mismatched dimensions and an empty answer', () => {
      expect(() => certifyAnswer({ query: u.map((x) => 2 * x), topK: [sorted[0]], challengers: [] })).to.throw(RangeError, /unit/);
      expect(() => certifyAnswer({ query: u, topK: [{ id: 1, vector: [1, 0, 0] }], challengers: [] })).to.throw(RangeError, /values/);
      expect(() => certifyAnswer({ query: u, topK: [], challengers: [] })).to.throw(RangeError);
      expect(() => certifyAnswer({ query: u, topK: [sorted[0]], challengers: [], otherDistanceLowerBound: NaN })).to.throw(RangeError);
    });
  });

  describe('pruning', () => {
    /** Every pair evaluated, no pruning: the definition the certificate must equal. */
    function bruteForce(u: number[], topK: readonly Item[], challengers: readonly Item[], D: number) {
      const d = (item: Item) => distance(u, item.vector);
      const pair = (a: Item, b: Item) => pairRadius(d(a), d(b), distance(a.vector, b.vector));
      const set = Math.min(...topK.flatMap((a) => [unscoredRadius(d(a), D), ...challengers.map((b) => pair(a, b))]));
      const top1 = Math.min(unscoredRadius(d(topK[0]), D), ...[...topK.slice(1), ...challengers].map((b) => pair(topK[0], b)));
      const order = Math.min(set, ...topK.slice(1).map((b, i) => pair(topK[i], b)));
      return { set, order, top1: Math.max(top1, order) };
    }

    it('skips only pairs that cannot limit a radius: the radii equal the all-pairs minimum', () => {
      const rng = seededRandom(11);
      for (let n = 0; n < 40; n++) {
        const corpus = clusteredCorpus(rng, 6 + (n % 5), 4, 25);
        const u = nearUnit(corpus[(n * 13) % corpus.length].vector, 0.25, rng);
        const sorted = [...corpus].sort((a, b) => distance(u, a.vector) - distance(u, b.vector));
        const k = 1 + (n % 10);
        const challengers = sorted.slice(k, k + 40).reverse(); // any order is accepted
        const D = distance(u, sorted[k + 40].vector);
        const c = certifyAnswer({ query: u, topK: sorted.slice(0, k), challengers, otherDistanceLowerBound: D });
        const expected = bruteForce(u, sorted.slice(0, k), challengers, D);
        expect(c.topkSetRadius).to.equal(expected.set);
        expect(c.topkOrderRadius).to.equal(expected.order);
        expect(c.top1Radius).to.equal(expected.top1);
      }
    });
  });
});
