import type { PackedVectors } from '../store/imageStore.js';

/**
 * All stored vectors of a corpus as one dense row-major Float32Array, for exact scans. One matrix–vector
 * product gives the exact distance of the query to every image, which proves a candidate list is the true top
 * list and bounds every distance outside it from below.
 */
export class VectorMatrix {
  private constructor(
    readonly ids: Int32Array,
    readonly data: Float32Array,
    readonly dim: number,
    private readonly rowOf: Map<number, number>,
  ) {}

  /** Wraps the store's packed vectors (no copy). */
  static fromPacked(packed: PackedVectors): VectorMatrix {
    const ids = Int32Array.from(packed.ids);
    return new VectorMatrix(ids, packed.vectors, packed.dim, new Map(packed.ids.map((id, row) => [id, row])));
  }

  get size(): number {
    return this.ids.length;
  }

  /** A view of the stored vector of `id` (no copy), or undefined. */
  vector(id: number): Float32Array | undefined {
    const row = this.rowOf.get(id);
    return row === undefined ? undefined : this.data.subarray(row * this.dim, (row + 1) * this.dim);
  }

  /** Exact distance d = 1 − ⟨q, v⟩ to every row (float64, clamped to [0, 2] like certify's), in row order. */
  distancesTo(query: Float32Array): Float64Array {
    const { data, dim } = this;
    const out = new Float64Array(this.size);
    for (let row = 0, base = 0; row < out.length; row++, base += dim) {
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += query[j] * data[base + j];
      out[row] = Math.min(2, Math.max(0, 1 - dot));
    }
    return out;
  }
}

export interface ExactScan {
  /** The `count` nearest ids, closest first (ties broken by id), with their exact distances. */
  readonly nearest: { readonly id: number; readonly distance: number }[];
  /** The smallest distance of any image outside `nearest` (Infinity when there is none). */
  readonly restLowerBound: number;
}

/** The exact top-`count` of a scan's distances (from `distancesTo`), and the exact minimum over the rest. */
export function nearestRows(matrix: VectorMatrix, distances: Float64Array, count: number): ExactScan {
  const order = selectSmallest(distances, matrix.ids, Math.min(count, distances.length));
  const chosen = new Uint8Array(distances.length);
  for (const row of order) chosen[row] = 1;
  let rest = Infinity;
  for (let row = 0; row < distances.length; row++) if (!chosen[row] && distances[row] < rest) rest = distances[row];
  return { nearest: order.map((row) => ({ id: matrix.ids[row], distance: distances[row] })), restLowerBound: rest };
}

export function countWithin(distances: Float64Array, threshold: number): number {
  let n = 0;
  for (const d of distances) if (d <= threshold) n++;
  return n;
}

/** Rows of the `count` smallest values, sorted; a bounded insertion buffer (count ≪ n for search). */
function selectSmallest(values: Float64Array, ids: Int32Array, count: number): number[] {
  const better = (a: number, b: number) => values[a] < values[b] || (values[a] === values[b] && ids[a] < ids[b]);
  const best: number[] = [];
  if (count === 0) return best;
  for (let row = 0; row < values.length; row++) {
    if (best.length === count && !better(row, best[count - 1])) continue;
    let at = best.length === count ? count - 1 : best.length;
    while (at > 0 && better(row, best[at - 1])) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = row;
  }
  return best;
}
