/** Retrieval metrics over unit vectors (cosine similarity = dot product). */

/** Gallery vectors stacked row by row, for fast dot products. */
export class Gallery {
  readonly size: number;
  private readonly matrix: Float32Array;
  constructor(readonly vectors: readonly Float32Array[]) {
    this.size = vectors.length;
    const dim = vectors[0]?.length ?? 0;
    this.matrix = new Float32Array(this.size * dim);
    vectors.forEach((v, i) => this.matrix.set(v, i * dim));
  }

  similarities(query: Float32Array): Float32Array {
    const dim = query.length;
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      let s = 0;
      const base = i * dim;
      for (let k = 0; k < dim; k++) s += this.matrix[base + k] * query[k];
      out[i] = s;
    }
    return out;
  }

  /** Gallery indices by decreasing similarity, `exclude` left out. */
  ranking(query: Float32Array, exclude = -1): number[] {
    const sims = this.similarities(query);
    const order = Array.from({ length: this.size }, (_, i) => i).filter((i) => i !== exclude);
    return order.sort((a, b) => sims[b] - sims[a]);
  }
}

/** Share of queries whose nearest gallery item is their true original. */
export function recallAt1(gallery: Gallery, queries: readonly Float32Array[], truth: readonly number[]): number {
  let hits = 0;
  queries.forEach((q, i) => {
    const sims = gallery.similarities(q);
    let best = 0;
    for (let j = 1; j < sims.length; j++) if (sims[j] > sims[best]) best = j;
    if (best === truth[i]) hits++;
  });
  return hits / queries.length;
}

/** Average precision of one ranking given which gallery items are relevant. */
export function averagePrecision(ranking: readonly number[], relevant: (index: number) => boolean): number {
  let hits = 0, sum = 0, total = 0;
  ranking.forEach((g, r) => {
    if (relevant(g)) {
      hits++;
      sum += hits / (r + 1);
    }
  });
  for (const g of ranking) if (relevant(g)) total++;
  return total === 0 ? 0 : sum / total;
}

export function precisionAtK(ranking: readonly number[], relevant: (index: number) => boolean, k: number): number {
  const top = ranking.slice(0, k);
  return top.filter(relevant).length / Math.max(1, top.length);
}

export const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
