import { expect } from 'chai';
import { checkCopies } from '../../src/certify/copyCheck.js';
import { seededRandom } from '../../src/util/random.js';
import { angleOfChord, chord, nearUnit, randomUnit, rotate, tangent } from '../helpers/sphereSampling.js';

describe('certify/checkCopies', () => {
  const rng = seededRandom(5);
  const dim = 6;
  const corpus = Array.from({ length: 40 }, (_, id) => ({ id, vector: randomUnit(dim, rng) }));
  const scanAll = () => ({ candidates: corpus, otherDistanceLowerBound: Infinity });

  it('agrees with brute force: proven "no copy" iff every corpus embedding is farther than chord ε', () => {
    for (let n = 0; n < 200; n++) {
      const u = n % 2 ? randomUnit(dim, rng) : nearUnit(corpus[n % corpus.length].vector, 0.1, rng);
      const epsilon = rng() * 1.5;
      const check = checkCopies({ query: u, epsilon, ...scanAll() });
      const within = corpus.filter((y) => chord(u, y.vector) <= epsilon).map((y) => y.id);
      expect(check.scope).to.equal('exact');
      expect(check.possibleCopies.map((c) => c.id).sort((a, b) => a - b)).to.deep.equal(within);
      expect(check.provenNoCopy).to.equal(within.length === 0);
      const nearest = Math.min(...corpus.map((y) => chord(u, y.vector)));
      expect(check.epsilonProvenNoCopy).to.be.closeTo(nearest, 1e-9);
    }
  });

  it('finds an ε-copy at the boundary and proves none just below it', () => {
    const original = corpus[3].vector;
    const epsilon = 0.05;
    // f(q) for q = x + δ, ‖δ‖ = ε, with f moving as far as 1-Lipschitz allows.
    const u = rotate(original, tangent(original, randomUnit(dim, rng), rng), angleOfChord(epsilon));
    const at = checkCopies({ query: u, epsilon: epsilon * (1 + 1e-9), ...scanAll() }); // float margin at the edge
    expect(at.possibleCopies.map((c) => c.id)).to.deep.equal([3]);
    expect(at.possibleCopies[0].distance).to.be.closeTo((epsilon * epsilon) / 2, 1e-12);
    expect(at.provenNoCopy).to.equal(false);
    const below = checkCopies({ query: u, epsilon: epsilon * (1 - 1e-6), ...scanAll() });
    expect(below.possibleCopies).to.deep.equal([]);
    expect(below.provenNoCopy).to.equal(true);
    expect(at.epsilonProvenNoCopy).to.be.closeTo(epsilon, 1e-9);
  });

  it('proves nothing in index scope or when D is not above ε²/2', () => {
    const u = randomUnit(dim, rng);
    const index = checkCopies({ query: u, candidates: corpus.slice(0, 5), epsilon: 0.01 });
    expect(index.scope).to.equal('index');
    expect(index.provenNoCopy).to.equal(false);
    expect(index.epsilonProvenNoCopy).to.equal(null);
    const weakD = checkCopies({ query: u, candidates: [], epsilon: 0.2, otherDistanceLowerBound: 0.02 });
    expect(weakD.provenNoCopy).to.equal(false);
    expect(weakD.epsilonProvenNoCopy).to.be.closeTo(0.2, 1e-12);
  });
});
