/**
 * The linear map from an image's decoded pixels to the model input: a centre square crop followed by an
 * antialiased triangle-filter resample to SIZE×SIZE, done in float (no 8-bit rounding, which is not Lipschitz).
 * It is separable, R = R_h ⊗ R_w, so its operator norm is ‖R_h‖·‖R_w‖ and a radius certified in model-input
 * space converts to the image's own pixel space as radius / ‖R‖.
 */

/** One axis of the resample: for each output index, the source indices and their weights (a sparse row). */
export interface AxisResample {
  readonly outSize: number;
  readonly inSize: number;
  readonly start: Int32Array; // first source index per output
  readonly weights: Float32Array[]; // weights per output, contiguous from start
}

/**
 * Builds the resample of `crop` source pixels starting at `offset` (default: centred in inSize) onto outSize
 * outputs.
 */
export function axisResample(
  inSize: number,
  crop: number,
  outSize: number,
  offset = Math.floor((inSize - crop) / 2),
): AxisResample {
  if (!(crop >= 1 && offset >= 0 && offset + crop <= inSize)) {
    throw new RangeError(`crop ${crop} at ${offset} outside 0..${inSize}`);
  }
  const scale = crop / outSize; // source pixels per output pixel
  const support = Math.max(1, scale); // widen the triangle when downscaling: this is the antialiasing
  const start = new Int32Array(outSize);
  const weights: Float32Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale - 0.5; // in crop coordinates
    const lo = Math.max(0, Math.ceil(centre - support));
    const hi = Math.min(crop - 1, Math.floor(centre + support));
    const w: number[] = [];
    let sum = 0;
    for (let i = lo; i <= hi; i++) {
      const v = Math.max(0, 1 - Math.abs(i - centre) / support);
      w.push(v);
      sum += v;
    }
    if (sum === 0) {
      // Upscaling a 1-pixel crop: every output copies the only source pixel.
      start[o] = offset + Math.min(crop - 1, Math.max(0, Math.round(centre)));
      weights.push(Float32Array.of(1));
      continue;
    }
    start[o] = offset + lo;
    weights.push(Float32Array.from(w, (v) => v / sum));
  }
  return { outSize, inSize, start, weights };
}

/**
 * A sound upper bound on the spectral norm of one axis' matrix A (outSize × inSize, non-negative entries).
 * Power iteration on M = A·Aᵀ gives a positive vector v; for a non-negative symmetric M the Collatz–Wielandt
 * bound λ_max ≤ max_i (Mv)_i / v_i then holds for any positive v, and it is tight once v has converged.
 */
export function axisNormUpperBound(a: AxisResample, iterations = 100): number {
  const n = a.outSize;
  // M_ij = Σ_k A_ik A_jk is non-zero only for outputs whose supports overlap: a band, stored as CSR.
  const rowStart = new Int32Array(n + 1);
  const cols: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const endI = a.start[i] + a.weights[i].length;
    for (let j = 0; j < n; j++) {
      const lo = Math.max(a.start[i], a.start[j]);
      const hi = Math.min(endI, a.start[j] + a.weights[j].length);
      if (a.start[j] >= endI) break; // supports start in increasing order
      if (hi <= lo) continue;
      let s = 0;
      for (let k = lo; k < hi; k++) s += a.weights[i][k - a.start[i]] * a.weights[j][k - a.start[j]];
      cols.push(j);
      values.push(s);
    }
    rowStart[i + 1] = cols.length;
  }
  const col = Int32Array.from(cols);
  const val = Float64Array.from(values);
  const multiply = (v: Float64Array, out: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = rowStart[i]; p < rowStart[i + 1]; p++) s += val[p] * v[col[p]];
      out[i] = s;
    }
  };
  const v = new Float64Array(n).fill(1);
  const w = new Float64Array(n);
  for (let t = 0; t < iterations; t++) {
    multiply(v, w);
    let norm = 0;
    for (let i = 0; i < n; i++) norm = Math.max(norm, w[i]);
    // Keep v strictly positive so that the bound below stays valid.
    for (let i = 0; i < n; i++) v[i] = Math.max(w[i] / norm, 1e-12);
  }
  multiply(v, w);
  let lambda = 0;
  for (let i = 0; i < n; i++) lambda = Math.max(lambda, w[i] / v[i]);
  return Math.sqrt(lambda) * (1 + 1e-6); // margin for floating-point rounding
}

/** Applies R to an interleaved RGB uint8 image, returning the planar float model input in [0, 1]. */
export function resampleToPlanar(
  rgb: Uint8Array,
  width: number,
  rows: AxisResample,
  cols: AxisResample,
): Float32Array {
  const outW = cols.outSize;
  const outH = rows.outSize;
  // Horizontal pass first (interleaved, float), over every source row the vertical pass needs.
  const rowLo = rows.start[0];
  const rowHi = rows.start[outH - 1] + rows.weights[outH - 1].length;
  const tmp = new Float32Array((rowHi - rowLo) * outW * 3);
  for (let y = rowLo; y < rowHi; y++) {
    const src = y * width * 3;
    const dst = (y - rowLo) * outW * 3;
    for (let o = 0; o < outW; o++) {
      const w = cols.weights[o];
      let p = src + cols.start[o] * 3;
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < w.length; k++, p += 3) {
        r += w[k] * rgb[p];
        g += w[k] * rgb[p + 1];
        b += w[k] * rgb[p + 2];
      }
      tmp[dst + o * 3] = r;
      tmp[dst + o * 3 + 1] = g;
      tmp[dst + o * 3 + 2] = b;
    }
  }
  const plane = outW * outH;
  const out = new Float32Array(plane * 3);
  for (let o = 0; o < outH; o++) {
    const w = rows.weights[o];
    const base = (rows.start[o] - rowLo) * outW * 3;
    for (let x = 0; x < outW; x++) {
      let r = 0, g = 0, b = 0;
      let p = base + x * 3;
      for (let k = 0; k < w.length; k++, p += outW * 3) {
        r += w[k] * tmp[p];
        g += w[k] * tmp[p + 1];
        b += w[k] * tmp[p + 2];
      }
      const i = o * outW + x;
      // Weights sum to 1, so values stay in [0, 1] up to float rounding, which the clamp removes (a box
      // projection: 1-Lipschitz, so the resize norm bound still holds).
      out[i] = Math.min(1, r / 255);
      out[plane + i] = Math.min(1, g / 255);
      out[2 * plane + i] = Math.min(1, b / 255);
    }
  }
  return out;
}
