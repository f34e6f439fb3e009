import type { AttackJobState, AttackNorm, AttackProgress, AttackStopReason } from '../attack/index.js';
import type { ModelName } from '../model/card.js';
import type { ImageRecord } from '../store/types.js';
import type { CertificateCheck, IntervalCheck, SelfDistanceCheck } from './verdicts.js';

/** The query of a comparison: a corpus image, or an upload kept in the search engine's upload cache. */
export type QuerySource = { readonly kind: 'image'; readonly id: number } | { readonly kind: 'upload'; readonly sha256: string };

export type AttackGoalKind = 'untargeted' | 'targeted';

export interface ComparisonParams {
  readonly query: QuerySource;
  readonly goal: AttackGoalKind;
  /** The corpus image a targeted attack tries to bring to the top (null when untargeted). */
  readonly target: number | null;
  readonly norm: AttackNorm;
  /** Budget of ‖δ‖ in model-input space (l2, or l∞ per value). */
  readonly epsilon: number;
  readonly steps: number;
  /** Results listed before and after the attack. */
  readonly k: number;
}

export interface RankedImage {
  readonly rank: number;
  readonly id: number;
  /** Exact cosine distance to the query (clean or attacked). */
  readonly distance: number;
  readonly image: ImageRecord;
}

/** A model's answer to the clean query, before any attack. */
export interface SideBefore {
  readonly results: readonly RankedImage[];
  /** Corpus images compared (the baseline skips images whose original file is gone). */
  readonly compared: number;
  /** Certified ℓ₂ radii of the answer (model-input space); null for a model without a certificate. */
  readonly radii: { readonly scope: 'exact' | 'index'; readonly top1: number; readonly topkSet: number } | null;
}

/** What the attack on one model did. */
export interface SideOutcome {
  readonly norms: { readonly l2: number; readonly linf: number };
  readonly stepsRun: number;
  readonly stopReason: AttackStopReason;
  /** Targeted: whether the target overtook every image of the clean answer. */
  readonly goalReached: boolean | null;
  readonly self: SelfDistanceCheck;
  readonly after: readonly RankedImage[];
  readonly top1Changed: boolean;
  readonly topkSetChanged: boolean;
  /** The certificate computed before the attack, checked against it (null: the model has none). */
  readonly certificate: { readonly top1: CertificateCheck; readonly topkSet: CertificateCheck } | null;
  /** Did the clean answer's distances stay in their intervals for ‖δ‖₂? (Only LipSim promises they do.) */
  readonly neighbours: IntervalCheck;
  /** How much the perturbation image amplifies δ. */
  readonly perturbationGain: number;
  /** LipSim: the adversarial PNG's content address in the search engine's upload cache (a results page). */
  readonly searchSha256: string | null;
}

export type SideState = 'waiting' | AttackJobState;

export interface SideStatus {
  readonly model: ModelName;
  readonly version: string;
  /** Whether the model is 1-Lipschitz (its bounds and certificate apply). */
  readonly robust: boolean;
  readonly state: SideState;
  readonly progress: AttackProgress | null;
  readonly before: SideBefore | null;
  readonly outcome: SideOutcome | null;
  readonly error: string | null;
}

export type ComparisonState = 'preparing' | 'running' | 'done' | 'failed' | 'cancelled';

export const isFinishedComparison = (state: ComparisonState) => state === 'done' || state === 'failed' || state === 'cancelled';

export interface ComparisonStatus {
  readonly id: string;
  readonly params: ComparisonParams;
  readonly state: ComparisonState;
  /** What the job is doing now, in words. */
  readonly phase: string;
  readonly error: string | null;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  /** The clean query PNG's content address in the search engine's upload cache (once prepared). */
  readonly cleanSha256: string | null;
  /** LipSim first, then the baseline. */
  readonly sides: readonly SideStatus[];
}

/** The PNGs a comparison keeps. */
export type ComparisonImageName = 'clean' | `${ModelName}-adversarial` | `${ModelName}-perturbation`;
