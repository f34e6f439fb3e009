/**
 * Synthetic embeddings for the scaling benchmarks: unit vectors drawn around random centres (like image
 * embeddings, which gather by subject), seeded so every run measures the same data.
 */

import { seededRandom } from '../util/random.js';

export interface SyntheticSet {
  readonly dim: number;
  /** Row-major, `count` unit vectors. */
  readonly vectors: Float32Array;
  readonly count: number;
}

/** Points per cluster centre on average. */
export const POINTS_PER_CLUSTER = 100;
/** Noise per coordinate around a centre: with dim 256 the noise has norm ≈ 1, so a point's cosine to its centre is ≈ 0.7. */
export const CLUSTER_SPREAD = 1 / 16;

export const SYNTHETIC_DISTRIBUTION =
  `unit vectors normalised from centre + N(0, (${CLUSTER_SPREAD})²) per coordinate, ` +
  `one random unit centre per ${POINTS_PER_CLUSTER} points; queries are fresh draws from the same mixture`;

/** Seeded uniform draws (mulberry32) with Gaussian draws by Box–Muller, both values of each pair used. */
export class Rng {
  readonly uniform: () => number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.uniform = seededRandom(seed);
  }

  gaussian(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  }
}

function normaliseInPlace(v: Float32Array): void {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] *= scale;
}

/** The mixture: its centres, from which any number of points (corpus or queries) can be drawn. */
export class ClusteredUnitVectors {
  private readonly centres: Float32Array[];

  constructor(
    readonly dim: number,
    clusters: number,
    private readonly rng: Rng,
  ) {
    this.centres = Array.from({ length: clusters }, () => {
      const centre = Float32Array.from({ length: dim }, () => rng.gaussian());
      normaliseInPlace(centre);
      return centre;
    });
  }

  static forCorpus(count: number, dim: number, seed: number): ClusteredUnitVectors {
    return new ClusteredUnitVectors(dim, Math.max(1, Math.round(count / POINTS_PER_CLUSTER)), new Rng(seed));
  }

  draw(count: number): SyntheticSet {
    const { dim } = this;
    const vectors = new Float32Array(count * dim);
    for (let row = 0; row < count; row++) {
      const centre = this.centres[Math.floor(this.rng.uniform() * this.centres.length)];
      const v = vectors.subarray(row * dim, (row + 1) * dim);
      for (let j = 0; j < dim; j++) v[j] = centre[j] + CLUSTER_SPREAD * this.rng.gaussian();
      normaliseInPlace(v);
    }
    return { dim, vectors, count };
  }
}

export function row(set: SyntheticSet, i: number): Float32Array {
  return set.vectors.subarray(i * set.dim, (i + 1) * set.dim);
}
