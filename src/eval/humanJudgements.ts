import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { embedPhotosWithEach, inGallerySpace, type VectorModel } from './models.js';

/** One human statement "photo `centre` is the most central of (centre, others[0], others[1])"; 0-based photo indices. */
export interface CentralityJudgement {
  readonly centre: number;
  readonly others: readonly [number, number];
}

export interface TwoAfcScores {
  readonly decisions: number;
  /** Share of the human decisions the model agrees with, ties counting half. */
  readonly agreement: number;
}

export type TwoAfcSection =
  | { readonly available: false; readonly dataset: string; readonly reason: string }
  | {
      readonly available: true;
      readonly dataset: string;
      readonly photos: number;
      readonly judgements: number;
      readonly results: Record<string, TwoAfcScores>;
    };

const HEADER = 'survey_round,chosen_center,triplet_object_1,triplet_object_2,triplet_object_3,response_time';

/**
 * Reads a centrality survey (Kleindessner & von Luxburg's "60 cars" layout): `survey_data.csv` whose photo numbers
 * n are the files `images/<n>.jpg`.
 */
export function readCentralityJudgements(dir: string): { photos: string[]; judgements: CentralityJudgement[] } {
  const [header, ...lines] = readFileSync(join(dir, 'survey_data.csv'), 'utf8').trim().split(/\r?\n/);
  if (header.trim() !== HEADER) throw new Error(`${dir}/survey_data.csv: unexpected header ${header}`);
  const rows = lines.map((line, i) => {
    const [, centre, ...triple] = line.split(',').slice(0, 5).map(Number);
    if (!triple.includes(centre) || new Set(triple).size !== 3 || triple.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new Error(`${dir}/survey_data.csv line ${i + 2}: not a centre among three distinct photos: ${line}`);
    }
    return { centre, others: triple.filter((n) => n !== centre) };
  });
  const numbers = [...new Set(rows.flatMap((r) => [r.centre, ...r.others]))].sort((a, b) => a - b);
  const index = new Map(numbers.map((n, i) => [n, i]));
  return {
    photos: numbers.map((n) => join(dir, 'images', `${n}.jpg`)),
    judgements: rows.map((r) => ({ centre: index.get(r.centre)!, others: [index.get(r.others[0])!, index.get(r.others[1])!] })),
  };
}

/**
 * 2AFC agreement: "B is the most central of (B, X, Y)" says d(X, B) < d(X, Y) and d(Y, B) < d(Y, X), two decisions a
 * model agrees with when its own distances order them the same way. `vectors` are unit vectors.
 */
export function twoAfcAgreement(vectors: readonly Float32Array[], judgements: readonly CentralityJudgement[]): TwoAfcScores {
  const similarity = vectors.map((a) => vectors.map((b) => a.reduce((s, x, j) => s + x * b[j], 0)));
  let agreed = 0;
  for (const { centre, others: [x, y] } of judgements) {
    for (const [anchor, other] of [[x, y], [y, x]]) {
      const margin = similarity[anchor][centre] - similarity[anchor][other];
      agreed += margin > 0 ? 1 : margin === 0 ? 0.5 : 0;
    }
  }
  const decisions = 2 * judgements.length;
  return { decisions, agreement: decisions ? agreed / decisions : 0 };
}

/** Human perceptual judgements on the photos in `dir`; an absent folder makes the section unavailable, not a failure. */
export async function evaluateHumanJudgements(models: readonly VectorModel[], dir: string, dataset: string): Promise<TwoAfcSection> {
  if (!existsSync(dir)) return { available: false, dataset, reason: `${dir} not found` };
  const { photos, judgements } = readCentralityJudgements(dir);
  const perModel = await embedPhotosWithEach(models, photos);
  const results = Object.fromEntries(models.map((m, i) => {
    const vectors = perModel[i];
    return [m.label, twoAfcAgreement(vectors.map(inGallerySpace(m, vectors)), judgements)];
  }));
  return { available: true, dataset, photos: photos.length, judgements: judgements.length, results };
}
