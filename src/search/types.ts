import type { AnswerCertificate, CopyCheck, Interval } from '../certify/index.js';
import type { ImageRecord } from '../store/types.js';

export interface SearchOptions {
  /** Results on this page. */
  readonly k: number;
  /** Results skipped before this page (paging). */
  readonly offset: number;
  /** ℓ₂ perturbation budget in model-input space for the distance intervals and the copy check. */
  readonly epsilon: number;
  readonly copyCheck: boolean;
}

/** What the query was. Uploads also know their size and the resize norm that maps radii to their pixels. */
export type QueryDescription =
  | { readonly kind: 'image'; readonly id: number; readonly image: ImageRecord }
  | {
      readonly kind: 'upload';
      readonly sha256: string;
      readonly width: number;
      readonly height: number;
      readonly format: string;
      /** The size the image was decoded at (reduced on load when large): the space of the image-pixel radii. */
      readonly decoded: { readonly width: number; readonly height: number };
      readonly resizeNorm: number;
    }
  | { readonly kind: 'vector' };

export interface SearchHit {
  /** 1-based rank in the whole answer (offset included). */
  readonly rank: number;
  readonly id: number;
  /** Exact cosine distance d = 1 − ⟨f(q), f(y)⟩ from the stored vector, in float64. */
  readonly distance: number;
  readonly cosine: number;
  /** Where the distance can move under any perturbation of the query with ‖δ‖₂ ≤ ε. */
  readonly bound: Interval;
  readonly image: ImageRecord;
}

/** Radii of the answer in one space (Infinity: no rival can ever overtake). */
export interface Radii {
  readonly top1: number;
  readonly topkSet: number;
  readonly topkOrder: number;
}

export interface SearchCertificate {
  readonly scope: AnswerCertificate['scope'];
  /** How many stored vectors the query was compared with exactly. */
  readonly compared: number;
  /** Share of the exact list the HNSW graph proposed (a health figure of the index; exact scope only). */
  readonly indexRecall: number | null;
  /** The radii cover the first `answerSize` results (every page up to and including this one). */
  readonly answerSize: number;
  /** Certified ℓ₂ radii in model-input space (3×224×224 values in [0, 1]). */
  readonly modelInput: Radii;
  /** The same radii in the uploaded image's own pixels (radius ÷ resize norm); uploads only. */
  /** Uploads: the radii in the pixels of the image as decoded (width × height), model-input radius ÷ resizeNorm. */
  readonly imagePixels: (Radii & { readonly resizeNorm: number; readonly width: number; readonly height: number }) | null;
  readonly limitedBy: AnswerCertificate['limitedBy'];
  /** D: every image outside the scored list is at least this far (exact scope only). */
  readonly otherDistanceLowerBound: number | null;
  readonly epsilon: number;
  /** Only when asked for; `complete` tells whether `possibleCopies` is known to list every possible copy. */
  readonly copyCheck: (CopyCheck & { readonly complete: boolean }) | null;
}

export interface SearchTimings {
  /** Decoding and embedding the query image; 0 for a stored or a raw vector. */
  readonly embedMs: number;
  /** True when an earlier request (the upload itself) did the embedding: embedMs is what it took then. */
  readonly embeddedEarlier: boolean;
  /** Everything else this request did but the certificate: snapshot check, exact ranking, image records. */
  readonly searchMs: number;
  readonly certifyMs: number;
  /** embedMs + searchMs + certifyMs. */
  readonly totalMs: number;
}

export interface SearchResult {
  readonly query: QueryDescription;
  readonly options: SearchOptions;
  readonly model: { readonly name: string; readonly version: string };
  /** Searchable images (with a vector) in the snapshot the query ran on. */
  readonly corpusSize: number;
  readonly hits: readonly SearchHit[];
  /** Null when the corpus is empty (nothing to certify). */
  readonly certificate: SearchCertificate | null;
  readonly timings: SearchTimings;
}
