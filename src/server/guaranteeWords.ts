import { type LimitingPair, type RadiusExplained, explainRadius } from '../certify/index.js';
import { countOf } from '../util/words.js';
import { MODEL_INPUT_VALUES, type SearchDto } from './presenters.js';
import { formatNumber as num } from './views.js';

/**
 * The certificate in words a photographer can follow: each guarantee leads with one plain sentence (how large a
 * change it covers, in grey levels and pixels; docs/certificates.md §6), and keeps its exact figures and
 * notation as details. Worded from the same DTO the JSON API returns, so the page never says more than it.
 */

type Certificate = NonNullable<SearchDto['certificate']>;
type RadiusKey = 'top1' | 'topkSet' | 'topkOrder';

export interface Claim {
  readonly tone: 'ok' | 'warn' | 'bad';
  readonly title: string;
  /** One plain sentence, shown first. */
  readonly lead: string;
  /** Exact figures and notation, shown under "details". */
  readonly details: string[];
}

/** A figure for people: no exponents, whole numbers from 10 up, two significant digits below 1. */
export function plainFigure(value: number): string {
  if (value >= 10) return String(Math.round(value));
  if (value >= 1) return value.toFixed(1).replace(/\.0$/, '');
  if (value >= 0.001) return String(Number(value.toPrecision(2)));
  return value > 0 ? 'under 0.001' : '0';
}

const greyLevels = (levels: number) => `${plainFigure(levels)} grey level${levels === 1 ? '' : 's'}`;

/** A radius spent evenly: "0.093 grey levels (out of 255) on every pixel". */
const spreadOver = (reading: RadiusExplained) => `${greyLevels(reading.greyLevels)} (out of 255) on every pixel`;

/** A radius spent on as few pixels as possible (of the 224×224 picture the model sees). */
const concentratedOn = (reading: RadiusExplained) =>
  reading.wholePixels >= 1 ? `${countOf(reading.wholePixels, 'pixel')} changed completely` : `one pixel changed by ${greyLevels(reading.onePixelGreyLevels)}`;

/** How large a change a radius covers, both ways it can be spent: "0.093 grey levels … on every pixel, or than …". */
export function changeSmallerThan(reading: RadiusExplained): string {
  return `${spreadOver(reading)}, or than ${concentratedOn(reading)}`;
}

/** The ε control's printed value: the budget in its one unit, then what a change of that size looks like. */
export function epsilonReading(epsilon: number): string {
  const reading = explainRadius(epsilon, MODEL_INPUT_VALUES);
  return `ε = ${num(epsilon)}: a change of that ℓ₂ size is, for example, ${spreadOver(reading)}, or ${concentratedOn(reading)}.`;
}

/** "about 0.093 grey levels on every pixel": a budget ε (model-input ℓ₂) spread evenly. */
export function budgetInGreyLevels(epsilon: number): string {
  return `about ${greyLevels(explainRadius(epsilon, MODEL_INPUT_VALUES).greyLevels)} on every pixel`;
}

/**
 * A guarantee too small to cover even one grey level on a single pixel: the two images that set it are
 * almost tied, and the smallest edit an 8-bit file can make may already swap them.
 */
export function isCloseCall(reading: RadiusExplained): boolean {
  return reading.onePixelGreyLevels < 1;
}

/** What each radius protects, as the end of "no change smaller than X can change …". */
function protectedThing(key: RadiusKey, n: number, first: number | undefined): string {
  const firstResult = `the first result${first === undefined ? '' : ` (#${first})`}`;
  if (key === 'top1' || n === 1) return firstResult;
  return key === 'topkSet' ? `which ${n} images are listed` : `the order of the first ${n} results`;
}

const rivalName = (pair: LimitingPair | null) => (!pair || pair.behind === null ? 'an image outside the compared list' : `#${pair.behind}`);

/** The lead sentence of one radius; `secondResult` (the id ranked second) names a top-1 near-tie plainly. */
function radiusLead(key: RadiusKey, certificate: Certificate, secondResult?: number): { tone: Claim['tone']; lead: string } {
  const r = certificate.radii[key];
  const pair = certificate.limitedBy[key];
  const thing = protectedThing(key, certificate.answerSize, certificate.limitedBy.top1?.ahead);
  const among = certificate.scope === 'index' ? ` among the ${countOf(certificate.compared, 'image')} compared` : '';
  if (r === null) return { tone: 'ok', lead: `Certain: no change of any size can change ${thing}: no other image can overtake.` };
  const ahead = pair ? `#${pair.ahead}` : 'a result';
  if (r === 0) {
    return { tone: 'bad', lead: `Not certified: ${rivalName(pair)} is exactly as close as ${ahead}, so a change of any size may change ${thing}.` };
  }
  const reading = certificate.radii.perValue[key]!;
  if (isCloseCall(reading)) {
    const set = certificate.limitedBy.topkSet;
    const acrossTheList = key !== 'top1' && pair?.behind != null && pair.ahead === set?.ahead && pair.behind === set.behind;
    const tied =
      key === 'top1' && pair?.behind === secondResult
        ? `the first two results (${ahead} and #${secondResult})`
        : acrossTheList
          ? `${ahead} (listed) and ${rivalName(pair)} (not listed)`
          : `${ahead} and ${rivalName(pair)}`;
    return { tone: 'warn', lead: `A close call: ${tied} are almost tied, so even one grey level on a single pixel may change ${thing}${among}.` };
  }
  return { tone: 'ok', lead: `Stable: no change smaller than ${changeSmallerThan(reading)}, can change ${thing}${among}.` };
}

/** The exact figures behind a radius sentence. */
function radiusDetails(key: RadiusKey, certificate: Certificate): string[] {
  const r = certificate.radii[key];
  const pair = certificate.limitedBy[key];
  if (r === null) return ['Radius +∞: no compared image can overtake, whatever the change.'];
  const details = [`‖δ‖₂ < r = ${num(r)} in model-input space (the 224×224 crop the network sees: 150 528 values in [0, 1]).`];
  const reading = certificate.radii.perValue[key];
  if (reading) {
    details.push(
      `Spread evenly: ${num(reading.perValue)} per value = ${num(reading.greyLevels)} grey levels (also a certified ℓ∞ radius); ` +
        `on one pixel: ${num(reading.onePixelGreyLevels)} grey levels in each colour; whole pixels changed: ${reading.wholePixels} (√(3K) < r).`,
    );
  }
  if (pair) details.push(`Set by ${rivalName(pair)} overtaking #${pair.ahead} first.`);
  const pixels = certificate.imagePixels;
  const own = pixels?.radii.perValue[key];
  if (pixels && own) {
    details.push(
      `${pixelSpace(pixels)}: r = ${num(own.l2)}, ` +
        `${num(own.greyLevels)} grey levels per value spread evenly, ${countOf(own.wholePixels, 'whole pixel')}.`,
    );
  }
  return details;
}

/** Which pixels the image-space radii speak of: the upload's own, or those of its reduced decoding. */
function pixelSpace(pixels: NonNullable<Certificate['imagePixels']>): string {
  const size = `${pixels.width}×${pixels.height}`;
  return pixels.reducedOnLoad
    ? `In the pixels of your image as decoded, reduced on load to ${size} (resize norm ${num(pixels.resizeNorm)}; its full-size pixels are not covered)`
    : `In your image's own pixels (${size}, resize norm ${num(pixels.resizeNorm)})`;
}

/** The certificate panel's claims: top-1, top-k set, top-k order, distances. */
export function certificateClaims(dto: SearchDto): Claim[] {
  const certificate = dto.certificate;
  if (!certificate) return [];
  const n = certificate.answerSize;
  const second = secondResultOf(dto);
  const radius = (key: RadiusKey, title: string): Claim => ({ title, ...radiusLead(key, certificate, second), details: radiusDetails(key, certificate) });
  return [
    radius('top1', 'First result'),
    radius('topkSet', `The ${countOf(n, 'result')} listed`),
    radius('topkOrder', `Their order`),
    {
      tone: 'ok',
      title: 'Distances',
      lead: `Every distance stays inside the band drawn under its result for any change within the budget ε = ${num(dto.epsilon)} (${budgetInGreyLevels(dto.epsilon)}).`,
      details: [`For every ‖δ‖₂ ≤ ε: the exact range of the distance over every embedding the change can reach (docs/certificates.md §1).`],
    },
  ];
}

/** The id ranked second, when this page shows it. */
const secondResultOf = (dto: SearchDto) => dto.results.find((r) => r.rank === 2)?.id;

/** One line above the results: the first result's guarantee, in its plain sentence. */
export function certificateSummary(dto: SearchDto): { tone: Claim['tone']; lead: string } | null {
  return dto.certificate ? radiusLead('top1', dto.certificate, secondResultOf(dto)) : null;
}

/** The page lists this many possible copies; the API lists them all. */
const COPIES_SHOWN = 12;

export interface CopyVerdict {
  readonly tone: 'ok' | 'warn';
  readonly lead: string;
  readonly details: string[];
  readonly copies: { id: number; distance: string; url: string }[];
  /** How many more possible copies the API lists. */
  readonly more: number;
}

/** The key to the amber outline the results page draws around possible copies (only shown when there is one). */
export function copyLegend(epsilon: number): string {
  return `Amber outline: a possible copy, an image that a change within ε = ${num(epsilon)} (${budgetInGreyLevels(epsilon)}) could turn into the query; see the copy check.`;
}

/** The certified copy check: is the query an edited copy of a collection image? */
export function copyVerdict(dto: SearchDto): CopyVerdict | null {
  const certificate = dto.certificate;
  const check = certificate?.copyCheck;
  if (!certificate || !check) return null;
  const all = check.possibleCopies.map((c) => ({ id: c.id, distance: num(c.distance), url: c.urls.page }));
  const copies = all.slice(0, COPIES_SHOWN);
  const more = all.length - copies.length;
  const threshold = `d ≤ ε²/2 = ${num(check.distanceThreshold)}`;
  if (all.length > 0) {
    const who = all.length === 1 ? `image #${all[0].id}` : `any of these ${all.length} images`;
    return {
      tone: 'warn',
      lead:
        `Possible copy: ${who} could be turned into this one by a change within the budget ε = ${num(check.epsilon)} (${budgetInGreyLevels(check.epsilon)})` +
        `${check.listComplete ? '' : ', and possibly others beyond the compared list'}: close enough to be an edited copy, not proven to be one.`,
      details: [`Listed: every image with ${threshold}; outlined in amber among the results.`],
      copies,
      more,
    };
  }
  if (check.provenNoCopy) {
    const strongest = check.epsilonProvenNoCopy ?? check.epsilon;
    return {
      tone: 'ok',
      lead: `Not a copy: no image in the collection can be turned into this one by a change smaller than ${changeSmallerThan(explainRadius(strongest, MODEL_INPUT_VALUES))}.`,
      details: [
        `Proven for the budget ε = ${num(check.epsilon)}: every image has d > ε²/2 = ${num(check.distanceThreshold)}` +
          (check.epsilonProvenNoCopy === null ? '.' : `; it holds for every ε < ε* = ${num(check.epsilonProvenNoCopy)}, which the sentence above uses.`),
      ],
      copies,
      more,
    };
  }
  return {
    tone: 'warn',
    lead: `No copy among the ${countOf(certificate.compared, 'image')} compared, but the rest of the collection was not checked (index scope): this is not a proof.`,
    details: [`None of the compared images has ${threshold}.`],
    copies,
    more,
  };
}
