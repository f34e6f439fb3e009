import type { CopyDetectionResult } from './copyDetection.js';
import type { CategoryRetrieval } from './categoryRetrieval.js';
import type { TwoAfcSection } from './humanJudgements.js';
import type { SemanticScores } from './semanticRetrieval.js';

/** Headline quality figure → model or floor label → value (null: not measured for it). */
export type QualitySummary = Record<string, Record<string, number | null>>;

/** One figure per quality section, side by side for the models, the teacher and the floors. */
export function summariseQuality(
  labels: readonly string[],
  sections: {
    readonly copyDetection: CopyDetectionResult;
    readonly semanticRetrieval: Record<string, SemanticScores>;
    readonly categoryRetrieval: Record<string, CategoryRetrieval>;
    readonly twoAfc: TwoAfcSection;
  },
): QualitySummary {
  const row = (value: (label: string) => number | undefined) => Object.fromEntries(labels.map((l) => [l, value(l) ?? null]));
  const { copyDetection, semanticRetrieval, categoryRetrieval, twoAfc } = sections;
  return {
    'copy detection recall@1 (all)': row((l) => copyDetection[l]?.all.recallAt1),
    'COCO P@10': row((l) => semanticRetrieval[l]?.precisionAt['10']),
    ...Object.fromEntries(Object.entries(categoryRetrieval).map(([name, c]) => [`${name} P@10`, row((l) => c.results[l]?.precisionAt10)])),
    [`${twoAfc.dataset} 2AFC agreement`]: row((l) => (twoAfc.available ? twoAfc.results[l]?.agreement : undefined)),
  };
}
