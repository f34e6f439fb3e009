import { z } from 'zod';
import { badRequest } from './errors.js';

/**
 * Reading request fields through the zod schemas that also write the OpenAPI description (openapi.ts), so that
 * what the API accepts and what it documents cannot drift apart. Query strings and forms carry text, JSON bodies
 * carry numbers and booleans: every field is read as text first, then turned into the type its schema declares.
 */

type Raw = Record<string, unknown>;

/** The first value of a query or form field (repeated fields are a client mistake we forgive), trimmed. */
export function field(source: Raw, name: string): string | undefined {
  const value = source[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === '') return undefined;
  if (typeof first === 'number' || typeof first === 'boolean') return String(first);
  if (typeof first !== 'string') throw badRequest(`invalid_${name}`, `${name} must be a single value`);
  return first.trim();
}

const WHOLE = /^[+]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const FRACTION = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/;
const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/** The value of a fraction such as "36/255" (the text has passed FRACTION). */
const fractionValue = (text: string) => {
  const [, numerator, denominator] = FRACTION.exec(text)!;
  return Number(numerator) / Number(denominator);
};

type WireType = 'integer' | 'number' | 'boolean' | 'array' | 'text';

/** What a field's JSON Schema says it holds; a number-or-fraction field reads as a number when it is one. */
function wireTypeOf(schema: z.ZodType): WireType {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { type?: unknown; anyOf?: { type?: unknown }[] };
  const types = [json.type, ...(json.anyOf ?? []).map((s) => s.type)];
  if (types.includes('integer')) return 'integer';
  if (types.includes('number')) return 'number';
  if (types.includes('boolean')) return 'boolean';
  if (types.includes('array')) return 'array';
  return 'text';
}

const wireTypes = new WeakMap<z.ZodType, WireType>();
function cachedWireType(schema: z.ZodType): WireType {
  let type = wireTypes.get(schema);
  if (!type) wireTypes.set(schema, (type = wireTypeOf(schema)));
  return type;
}

/** Text that does not spell the declared type is passed on as text, so that the schema refuses it by name. */
function fromText(text: string, type: WireType): unknown {
  switch (type) {
    case 'integer':
      return WHOLE.test(text) ? Number(text) : text;
    case 'number':
      return DECIMAL.test(text) ? Number(text) : text;
    case 'boolean':
      return TRUE.includes(text.toLowerCase()) ? true : FALSE.includes(text.toLowerCase()) ? false : text;
    default:
      return text;
  }
}

/** A refusal that names its own error code instead of invalid_<field> (rules across fields). */
export function customIssue(code: string, message: string, path: string[] = []) {
  return { code: 'custom' as const, message, path, params: { apiCode: code } };
}

/**
 * The fields of `schema` read from `source` (a query string, a form or a JSON body), validated. The first
 * problem becomes a 400 with the code invalid_<field> and the message "<field> <what it must be>".
 */
export function readRequest<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>, source: Raw): z.output<z.ZodObject<Shape>> {
  const values: Raw = {};
  for (const [name, fieldSchema] of Object.entries(schema.shape)) {
    const type = cachedWireType(fieldSchema as z.ZodType);
    if (type === 'array') {
      if (source[name] !== undefined) values[name] = source[name];
      continue;
    }
    const text = field(source, name);
    if (text !== undefined) values[name] = fromText(text, type);
  }
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const apiCode = issue.code === 'custom' ? (issue.params as { apiCode?: string } | undefined)?.apiCode : undefined;
  if (apiCode) throw badRequest(apiCode, issue.message);
  const name = String(issue.path[0] ?? 'request');
  throw badRequest(`invalid_${name}`, `${name} ${issue.message}`);
}

// Field types shared by the request schemas. Each states, once, what it must be: zod reports it on any problem.

/** A whole number from min to max. */
export function wholeNumber(min: number, max: number, fallback: number, description: string) {
  const must = { error: `must be an integer from ${min} to ${max}` };
  return z.int(must).min(min, must).max(max, must).default(fallback).describe(description);
}

/** A number written as a decimal or a fraction such as 36/255; `must` says which (the range is checked later when it depends on other fields). */
export function decimalOrFraction(must: string, range?: { min: number; max: number }) {
  const error = { error: must };
  const value = z
    .union([z.number(error), z.string(error).regex(FRACTION, error)], error)
    .transform((v) => (typeof v === 'number' ? v : fractionValue(v)));
  return range ? value.pipe(z.number(error).min(range.min, error).max(range.max, error)) : value;
}

/** A yes/no flag: true, false, 1, 0, yes, no, on, off. */
export function flag(description: string) {
  return z.boolean({ error: 'must be true or false' }).default(false).describe(description);
}

/** One of a few words. */
export function choice<const Words extends readonly [string, ...string[]]>(words: Words, description: string) {
  return z.enum(words, { error: `must be one of ${words.join(', ')}` }).describe(description);
}
