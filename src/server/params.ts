import { badRequest, notFound } from './errors.js';

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

export interface SearchParams {
  readonly k: number;
  readonly offset: number;
  readonly epsilon: number;
  readonly copyCheck: boolean;
}

type Raw = Record<string, unknown>;

/** The first value of a query or form field (repeated fields are a client mistake we forgive). */
export function field(source: Raw, name: string): string | undefined {
  const value = source[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === '') return undefined;
  if (typeof first === 'number' || typeof first === 'boolean') return String(first);
  if (typeof first !== 'string') throw badRequest(`invalid_${name}`, `${name} must be a single value`);
  return first.trim();
}

export function integer(source: Raw, name: string, fallback: number, min: number, max: number): number {
  const text = field(source, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^[+]?\d+$/.test(text) || value < min || value > max) {
    throw badRequest(`invalid_${name}`, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** A number written as a decimal ("0.141") or a fraction ("36/255"); NaN when it is neither. */
export function readDecimalOrFraction(text: string): number {
  const fraction = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(text);
  if (fraction) return Number(fraction[1]) / Number(fraction[2]);
  return /^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : NaN;
}

/**
 * ε from `text` (a decimal or a fraction) within [min, max]. Anything else, whether negative, too small, too
 * large or not a number, gets the one message `rangeMessage`, which states the range.
 */
export function parseEpsilonWithin(text: string, min: number, max: number, rangeMessage: string): number {
  const value = readDecimalOrFraction(text);
  if (!(Number.isFinite(value) && value >= min && value <= max)) throw badRequest('invalid_epsilon', rangeMessage);
  return value;
}

/** ε of a search: the default when absent, else a decimal ("0.141") or a fraction ("36/255") from 0 to `max`. */
export function parseEpsilon(text: string | undefined, max = MAX_EPSILON): number {
  if (text === undefined) return DEFAULT_EPSILON;
  return parseEpsilonWithin(text, 0, max, `epsilon must be a number from 0 to ${max} (e.g. 0.141 or 36/255)`);
}

function boolean(source: Raw, name: string): boolean {
  const text = field(source, name)?.toLowerCase();
  if (text === undefined) return false;
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw badRequest(`invalid_${name}`, `${name} must be true or false`);
}

/**
 * Validates k, offset, epsilon and copyCheck from a query string or a JSON/form body. The pages pass
 * PAGE_MAX_EPSILON, so that their ε control can show every ε they accept.
 */
export function parseSearchParams(source: Raw, maxEpsilon = MAX_EPSILON): SearchParams {
  return {
    k: integer(source, 'k', DEFAULT_K, 1, MAX_K),
    offset: integer(source, 'offset', 0, 0, MAX_OFFSET),
    epsilon: parseEpsilon(field(source, 'epsilon'), maxEpsilon),
    copyCheck: boolean(source, 'copyCheck'),
  };
}

/** A corpus image id from a route parameter: a positive integer, anything else is simply not found. */
export function parseImageId(text: unknown): number {
  const value = typeof text === 'string' && /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw notFound('no image with that id');
  return value;
}

/** An upload's content address: 64 lowercase hex digits. */
export function parseSha256(text: unknown): string {
  if (typeof text !== 'string' || !/^[0-9a-f]{64}$/.test(text)) throw notFound('no uploaded query with that address');
  return text;
}

export const DEFAULT_PER_PAGE = 48;
export const MAX_PER_PAGE = 200;

export function parsePage(source: Raw): { page: number; perPage: number } {
  return {
    page: integer(source, 'page', 1, 1, 1_000_000),
    perPage: integer(source, 'perPage', DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
  };
}
