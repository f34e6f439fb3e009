import type { AnswerCertificate } from './answerCertificate.js';

/**
 * Radii live in model-input space (3×224×224 values in [0, 1]). Preprocessing maps an uploaded image's pixels
 * (scaled to [0, 1]) linearly to the model input with ‖R‖ ≤ resizeNorm, so an image-space edit of norm ρ moves
 * the model input by at most ρ·resizeNorm (docs/certificates.md, §6).
 */

function assertResizeNorm(resizeNorm: number): void {
  if (!(resizeNorm > 0 && Number.isFinite(resizeNorm))) throw new RangeError(`resizeNorm ${resizeNorm} must be > 0`);
}

/** A radius certified in model-input space, as a radius in the uploaded image's own pixels. */
export function modelToImageRadius(radius: number, resizeNorm: number): number {
  assertResizeNorm(resizeNorm);
  return radius / resizeNorm;
}

/** An image-space edit size ε, as the model-input budget it can use up (for copy checks, attacks). */
export function imageToModelEpsilon(epsilon: number, resizeNorm: number): number {
  assertResizeNorm(resizeNorm);
  return epsilon * resizeNorm;
}

/** The certificate's radii in the uploaded image's own pixel space. */
export function certificateInImageSpace(certificate: AnswerCertificate, resizeNorm: number): AnswerCertificate {
  return {
    ...certificate,
    top1Radius: modelToImageRadius(certificate.top1Radius, resizeNorm),
    topkSetRadius: modelToImageRadius(certificate.topkSetRadius, resizeNorm),
    topkOrderRadius: modelToImageRadius(certificate.topkOrderRadius, resizeNorm),
  };
}

export interface RadiusExplained {
  readonly l2: number;
  /** r/√N: the change per value when r is spread evenly over all N values; also the certified l∞ radius. */
  readonly perValue: number;
  /** perValue in 8-bit grey levels (×255). */
  readonly greyLevels: number;
  /** The whole radius spent on one pixel (its 3 values alike): 255·r/√3 grey levels, at most 255. */
  readonly onePixelGreyLevels: number;
  /** Pixels that can be changed completely (3 values from 0 to 1 each, √3 apiece in l2) within the radius. */
  readonly wholePixels: number;
}

/** Values per pixel: the model input and decoded images are RGB. */
const CHANNELS = 3;

/**
 * Plain-words scale of an l2 radius over `values` numbers in [0, 1] (model input: 3·224·224; an image:
 * 3·width·height), docs/certificates.md §6. Since ‖δ‖₂ ≤ √N·‖δ‖∞, every change of at most r/√N per value is
 * covered; at the other extreme the whole radius fits on a few pixels. Radii are strict (‖δ‖₂ < r), so a
 * reading that would reach r exactly is not counted.
 */
export function explainRadius(radius: number, values: number): RadiusExplained {
  if (!(Number.isInteger(values) && values > 0)) throw new RangeError(`values ${values} must be a positive integer`);
  const perValue = radius / Math.sqrt(values);
  // K whole pixels measure √(3K) in l2: K < r²/3.
  const wholePixels = Math.min(Math.floor(values / CHANNELS), Math.max(0, Math.ceil((radius * radius) / CHANNELS) - 1));
  return {
    l2: radius,
    perValue,
    greyLevels: perValue * 255,
    onePixelGreyLevels: Math.min(255, (255 * radius) / Math.sqrt(CHANNELS)),
    wholePixels,
  };
}
