import { z } from 'zod';
import { BUDGET_KINDS } from '../compare/budgetImage.js';
import { notFound } from './errors.js';
import { choice, decimalOrFraction, flag, readRequest, wholeNumber } from './requestFields.js';

/** Limits of the query parameters every search route shares. */
export const DEFAULT_K = 10;
export const MAX_K = 100;
export const MAX_OFFSET = 1_000;
/** The LipSim paper's ℓ₂ budget, in model-input units ([0, 1] values). */
export const DEFAULT_EPSILON = 36 / 255;
/** Largest ε the API takes: far beyond any useful budget, larger values are input mistakes. */
export const MAX_EPSILON = 100;
/**
 * Largest ε of the results page's control: at ε = 2 the perturbed embedding can already be anywhere on the
 * unit sphere (docs/certificates.md §0), so every larger budget shows the same intervals.
 */
export const PAGE_MAX_EPSILON = 2;
export const DEFAULT_PER_PAGE = 48;
export const MAX_PER_PAGE = 200;

type Raw = Record<string, unknown>;

/** ε of a search: a decimal ("0.141") or a fraction ("36/255") from 0 to `max`; one message whatever is wrong. */
function epsilonField(max: number) {
  return decimalOrFraction(`must be a number from 0 to ${max} (e.g. 0.141 or 36/255)`, { min: 0, max })
    .default(DEFAULT_EPSILON)
    .meta({
      description: `ℓ₂ perturbation budget in model-input space for the distance intervals and the copy check: a number from 0 to ${max}, or a fraction such as 36/255 (default 36/255)`,
      examples: ['36/255', 0.5],
    });
}

/** The query parameters (or form / JSON fields) of every search route. */
export function searchFields(maxEpsilon = MAX_EPSILON) {
  return z.object({
    k: wholeNumber(1, MAX_K, DEFAULT_K, 'results per page'),
    offset: wholeNumber(0, MAX_OFFSET, 0, 'results skipped (paging)'),
    epsilon: epsilonField(maxEpsilon),
    copyCheck: flag('add the certified copy check for epsilon'),
  });
}
const apiSearchFields = searchFields();
const pageSearchFields = searchFields(PAGE_MAX_EPSILON);

export type SearchParams = z.output<typeof apiSearchFields>;

/**
 * Validates k, offset, epsilon and copyCheck from a query string or a JSON/form body. The pages pass
 * PAGE_MAX_EPSILON, so that their ε control can show every ε they accept.
 */
export function parseSearchParams(source: Raw, maxEpsilon = MAX_EPSILON): SearchParams {
  const fields = maxEpsilon === MAX_EPSILON ? apiSearchFields : maxEpsilon === PAGE_MAX_EPSILON ? pageSearchFields : searchFields(maxEpsilon);
  return readRequest(fields, source);
}

/** The body of a search by raw embedding: the vector (its dimension is checked against the model) and the search fields. */
export const vectorSearchBody = apiSearchFields.extend({
  vector: z
    .array(z.number({ error: 'must be an array of finite numbers' }), { error: 'must be an array of finite numbers' })
    .describe('the query embedding; normalised to unit length, its dimension must match the model'),
});

/** A budget picture's query: how to draw the budget, and the search whose certificate it draws. */
export const budgetFields = apiSearchFields.extend({
  kind: choice(
    BUDGET_KINDS,
    'spread: every value moved by r/√150528 in a checkerboard (amplified for visibility); patch: the same ℓ₂ size on a few central pixels, at true size',
  ).default('spread'),
});

export const pageFields = z.object({
  page: wholeNumber(1, 1_000_000, 1, 'page number, from 1'),
  perPage: wholeNumber(1, MAX_PER_PAGE, DEFAULT_PER_PAGE, 'images per page'),
});

export function parsePage(source: Raw): { page: number; perPage: number } {
  return readRequest(pageFields, source);
}

/** Path parameters. Anything that does not fit is simply not found (404), never a 400. */
export const imageIdParam = z.int().min(1).max(Number.MAX_SAFE_INTEGER).describe('a corpus image id');
export const sha256Param = z.string().regex(/^[0-9a-f]{64}$/).describe("an upload's content address: the sha256 of its bytes");

/** A corpus image id from a route parameter: a positive integer, anything else is simply not found. */
export function parseImageId(text: unknown): number {
  const value = typeof text === 'string' && /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!imageIdParam.safeParse(value).success) throw notFound('no image with that id');
  return value;
}

/** An upload's content address: 64 lowercase hex digits. */
export function parseSha256(text: unknown): string {
  if (!sha256Param.safeParse(text).success) throw notFound('no uploaded query with that address');
  return text as string;
}
