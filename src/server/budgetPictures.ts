import { spreadGain } from '../compare/budgetImage.js';
import { plainFigure } from './guaranteeWords.js';
import type { SearchDto } from './presenters.js';
import { formatNumber as num } from './views.js';

/**
 * The results page's pictures of the certified top-1 budget (issue #16): how much change is covered, drawn on
 * the query, spread evenly and on a patch. Worded from the same DTO the JSON API returns.
 */

export interface BudgetPicture {
  readonly url: string;
  readonly alt: string;
  /** The one plain sentence every picture carries. */
  readonly caption: string;
  /** How this picture spends the budget, and whether it is amplified. */
  readonly note: string;
}

export type BudgetView = { readonly pictures: BudgetPicture[] } | { readonly reason: string } | null;

const CAPTION = 'Any change smaller than this one cannot change the first result.';

/** The pictures, or why there are none; null when the query has no picture (a raw vector) or no certificate. */
export function budgetView(dto: SearchDto): BudgetView {
  const certificate = dto.certificate;
  const base =
    dto.query.kind === 'image' ? `/api/images/${dto.query.id}/budget.png` : dto.query.kind === 'upload' ? `/api/uploads/${dto.query.sha256}/budget.png` : null;
  if (!certificate || !base) return null;
  const r = certificate.radii.top1;
  if (r === null) return { reason: 'No picture of the budget: no change of any size can change the first result, so there is no limit to draw.' };
  if (!(r > 0)) return { reason: 'No picture of the budget: the first result is not certified (its radius is 0), so even the smallest change may change it.' };
  const reading = certificate.radii.perValue.top1!;
  const gain = spreadGain(r);
  // No ε: the top-1 radius does not depend on it, so the pictures stay right when ε changes in place.
  const url = (kind: string) => `${base}?${new URLSearchParams({ kind, k: String(dto.k), offset: String(dto.offset) })}`;
  const trueLevels = `${plainFigure(reading.greyLevels)} grey levels (out of 255)`;
  return {
    pictures: [
      {
        url: url('spread'),
        alt: `The query with a change of ℓ₂ size ${num(r)} spread over every value as a checkerboard texture`,
        caption: CAPTION,
        note:
          gain > 1
            ? `Spread evenly: every value moved by ${trueLevels}, up and down in a checkerboard; drawn amplified ${gain}× so it can be seen.`
            : `Spread evenly: every value moved by ${trueLevels}, up and down in a checkerboard; drawn at true size.`,
      },
      {
        url: url('patch'),
        alt: `The query with the same ℓ₂ size ${num(r)} spent on a few pixels at its centre`,
        caption: CAPTION,
        note: `The same budget on as few pixels as possible: values at the centre pushed to black or white until the ℓ₂ size reaches ${num(r)}; drawn at true size (224×224, the picture the model sees).`,
      },
    ],
  };
}
