import { DEFAULT_EPSILON, MAX_EPSILON } from './params.js';
import type { SearchDto } from './presenters.js';
import { formatNumber as num } from './views.js';

/**
 * View models of the HTML pages: everything a template shows, already worded. The certificate panel is
 * phrased here, from the same DTO the JSON API returns, so the page never says more than the API proves.
 */

type Certificate = NonNullable<SearchDto['certificate']>;
type RadiusSet = Certificate['radii'];

export interface FormState {
  readonly k: number;
  readonly epsilon: number;
  readonly maxUploadMiB: number;
  readonly maxEpsilon: number;
  readonly error?: { readonly title: string; readonly message: string };
}

export function formState(maxUploadBytes: number, values: { k?: number; epsilon?: number } = {}, error?: FormState['error']): FormState {
  return {
    k: values.k ?? 10,
    epsilon: Number((values.epsilon ?? DEFAULT_EPSILON).toFixed(6)),
    maxUploadMiB: Math.round(maxUploadBytes / (1024 * 1024)),
    maxEpsilon: MAX_EPSILON,
    ...(error ? { error } : {}),
  };
}

/** "0.141 (= 36/255)": ε in model-input units and as grey levels of one value. */
export function describeEpsilon(epsilon: number): string {
  return `${num(epsilon)} (= ${num(epsilon * 255)}/255)`;
}

export interface Pager {
  readonly label: string;
  readonly page: number;
  readonly pages: number;
  readonly prevUrl?: string;
  readonly nextUrl?: string;
  readonly items: { number?: number; url?: string; current?: boolean; gap?: boolean }[];
}

/** Numbered pages around the current one, with the first and last always reachable. */
export function pager(label: string, page: number, pages: number, urlOf: (page: number) => string): Pager {
  const shown = new Set([1, pages, page - 2, page - 1, page, page + 1, page + 2].filter((p) => p >= 1 && p <= pages));
  const items: Pager['items'] = [];
  let last = 0;
  for (const p of [...shown].sort((a, b) => a - b)) {
    if (p > last + 1) items.push({ gap: true });
    items.push({ number: p, url: urlOf(p), current: p === page });
    last = p;
  }
  return {
    label,
    page,
    pages,
    ...(page > 1 ? { prevUrl: urlOf(page - 1) } : {}),
    ...(page < pages ? { nextUrl: urlOf(page + 1) } : {}),
    items: pages > 1 ? items : [],
  };
}

/** Upper end of the bar scale: the largest upper bound on the page, rounded up to a readable step. */
export function barScale(uppers: readonly number[]): number {
  const top = Math.max(1e-6, ...uppers);
  const step = 10 ** Math.floor(Math.log10(top)) / 2;
  return Math.min(2, Math.ceil(top / step) * step);
}

const pct = (value: number, scale: number) => Math.min(100, Math.max(0, (100 * value) / scale));

export function bar(distance: number, lower: number, upper: number, scale: number) {
  return {
    left: pct(lower, scale).toFixed(2),
    width: Math.max(0.6, pct(upper, scale) - pct(lower, scale)).toFixed(2),
    point: pct(distance, scale).toFixed(2),
  };
}

export interface Claim {
  readonly tone: 'ok' | 'warn' | 'bad';
  readonly title: string;
  readonly text: string;
  readonly figure?: string;
  readonly details: string[];
}

function spread(radius: number | null, perValue: { greyLevels: number } | null, where: string): string {
  if (radius === null || !perValue) return '';
  return `≈ ${num(perValue.greyLevels)} grey levels on every value of ${where}`;
}

/** One radius claim: "<subject> cannot change for any perturbation of the query smaller than r". */
function radiusClaim(
  title: string,
  subject: string,
  key: keyof Omit<RadiusSet, 'perValue'>,
  certificate: Certificate,
  limitingRival: string,
): Claim {
  const r = certificate.radii[key];
  const pixels = certificate.imagePixels;
  if (r === 0) {
    return {
      tone: 'bad',
      title,
      text: `${subject} is not certified: ${limitingRival} is exactly as close, so a perturbation of any size may change it.`,
      details: [],
    };
  }
  if (r === null) {
    return { tone: 'ok', title, text: `${subject} cannot change for any perturbation: no other image can overtake.`, details: [] };
  }
  const details = [`In the model input (224×224 crop): ${spread(r, certificate.radii.perValue[key], 'the 224×224 input')}.`];
  if (pixels) {
    const rp = pixels.radii[key];
    details.push(
      `In your image's own pixels (${pixels.width}×${pixels.height}): r = ${num(rp)}, ${spread(rp, pixels.radii.perValue[key], 'your image')}.`,
    );
  }
  return {
    tone: 'ok',
    title,
    text: `${subject} cannot change for any perturbation of the query smaller than`,
    figure: `r = ${num(r)}`,
    details,
  };
}

function rivalName(pair: { ahead: number; behind: number | null } | null): string {
  if (!pair) return 'another image';
  return pair.behind === null ? 'an image outside the scored list' : `image #${pair.behind}`;
}

export function certificateClaims(dto: SearchDto): Claim[] {
  const certificate = dto.certificate;
  if (!certificate) return [];
  const first = certificate.limitedBy.top1?.ahead;
  const n = certificate.answerSize;
  return [
    radiusClaim('Top-1 answer', `The first result${first ? ` (#${first})` : ''}`, 'top1', certificate, rivalName(certificate.limitedBy.top1)),
    radiusClaim(`Top-${n} set`, `The set of the first ${n} results`, 'topkSet', certificate, rivalName(certificate.limitedBy.topkSet)),
    radiusClaim(`Top-${n} order`, `The order of the first ${n} results`, 'topkOrder', certificate, rivalName(certificate.limitedBy.topkOrder)),
    {
      tone: 'ok',
      title: 'Distances',
      text: 'For every perturbation of the query with ‖δ‖₂ ≤ ε (the budget set above), each distance stays inside the interval drawn under its result.',
      details: [],
    },
  ];
}

export function scopeBadges(dto: SearchDto): { tone: string; text: string; title: string }[] {
  const c = dto.certificate;
  if (!c) return [];
  const badges = [
    c.scope === 'exact'
      ? { tone: 'ok', text: 'scope: exact', title: `compared with all ${c.compared} images: the list is the true top list` }
      : { tone: 'warn', text: 'scope: index', title: `compared with the ${c.compared} candidates of the index only; images it did not return are not covered` },
    { tone: '', text: 'space: model input', title: 'the 224×224 crop the network sees, values in [0, 1]' },
  ];
  if (c.imagePixels) badges.push({ tone: '', text: "space: your image's pixels", title: 'radius ÷ resize norm' });
  return badges;
}

/** The page lists this many possible copies; the API lists them all. */
const COPIES_SHOWN = 12;

export interface CopyVerdict {
  readonly tone: 'ok' | 'warn';
  readonly text: string;
  readonly copies: { id: number; distance: string; url: string }[];
  /** How many more possible copies the API lists. */
  readonly more: number;
}

export function copyVerdict(dto: SearchDto): CopyVerdict | null {
  const check = dto.certificate?.copyCheck;
  if (!check) return null;
  const eps = describeEpsilon(check.epsilon);
  const all = check.possibleCopies.map((c) => ({ id: c.id, distance: num(c.distance), url: c.urls.page }));
  const copies = all.slice(0, COPIES_SHOWN);
  const more = all.length - copies.length;
  if (copies.length > 0) {
    return {
      tone: 'warn',
      text:
        `Possible near-copy: the query could be ${copies.length === 1 ? 'this corpus image' : 'any of these corpus images'} changed by at most ε = ${eps}` +
        (check.listComplete ? '.' : ' (and possibly others beyond the scored list).'),
      copies,
      more,
    };
  }
  if (check.provenNoCopy) {
    const beyond = check.epsilonProvenNoCopy === null ? '' : ` (this holds for every ε below ${num(check.epsilonProvenNoCopy)})`;
    return { tone: 'ok', text: `Proven: the query is not an ε-perturbation of any corpus image for ε = ${eps}${beyond}.`, copies, more };
  }
  return { tone: 'warn', text: 'No near-copy among the compared candidates, but this is not a proof (index scope).', copies, more };
}

/** One line above the results: the top-1 radius and the scope, linking to the full certificate. */
export function certificateSummary(dto: SearchDto): string {
  const c = dto.certificate;
  if (!c) return '';
  const r = c.radii.top1;
  const radius = r === null ? 'for every perturbation' : r === 0 ? 'not certified (a tie)' : `for every perturbation with ‖δ‖₂ < ${num(r)}`;
  return `Top-1 answer certified ${radius} · scope ${c.scope} · see the certificate`;
}
