import type { SearchTimings } from '../search/types.js';
import { countOf } from '../util/words.js';
import { DEFAULT_EPSILON, PAGE_MAX_EPSILON } from './params.js';
import type { SearchDto } from './presenters.js';

/**
 * View models of the HTML pages: everything a template shows, already worded. The certificate panel's words
 * are in guaranteeWords.ts.
 */

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
    maxEpsilon: PAGE_MAX_EPSILON,
    ...(error ? { error } : {}),
  };
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

/** Where the time of an answer went: embedding the query (at upload, for a search from the cache), search, certificate. */
export function timingText(timings: SearchTimings): string {
  const ms = (value: number) => `${value >= 10 ? Math.round(value) : value.toFixed(1)} ms`;
  const parts = [`search ${ms(timings.searchMs)}`, `certificate ${ms(timings.certifyMs)}`];
  if (timings.embedMs > 0) parts.unshift(`embedding ${ms(timings.embedMs)}${timings.embeddedEarlier ? ' (at upload)' : ''}`);
  return `${ms(timings.totalMs)}: ${parts.join(' + ')}`;
}

export function scopeBadges(dto: SearchDto): { tone: string; text: string; title: string }[] {
  const c = dto.certificate;
  if (!c) return [];
  const badges = [
    c.scope === 'exact'
      ? { tone: 'ok', text: 'scope: exact', title: `compared with all ${countOf(c.compared, 'image')}: the list is the true top list` }
      : { tone: 'warn', text: 'scope: index', title: `compared with the ${countOf(c.compared, 'candidate')} of the index only; images it did not return are not covered` },
    { tone: '', text: 'space: model input', title: 'the 224×224 crop the network sees, values in [0, 1]' },
  ];
  if (c.imagePixels) badges.push({ tone: '', text: "space: your image's pixels", title: 'radius ÷ resize norm' });
  return badges;
}
