import { z } from 'zod';

/** zod schemas as the JSON Schemas of an OpenAPI 3.1 document (JSON Schema 2020-12). */

type Json = { [key: string]: unknown };

/** Drops what OpenAPI does not need: $schema and $id, and the ±2⁵³ bounds zod gives every integer. */
function tidy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidy);
  if (!value || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$schema' || key === '$id') continue;
    if ((key === 'minimum' || key === 'maximum') && Math.abs(inner as number) === Number.MAX_SAFE_INTEGER) continue;
    out[key] = tidy(inner);
  }
  return out;
}

/** What a client sends: defaults included, transforms shown by their input. */
export const requestSchema = (schema: z.ZodType) => tidy(z.toJSONSchema(schema, { io: 'input' })) as Json;

/** Parameters `in` the query or the path, one per field of `fields`, each described by its field's description. */
export function parametersOf(fields: z.ZodObject, where: 'query' | 'path'): Json[] {
  return Object.entries(fields.shape).map(([name, field]) => {
    const { description, ...schema } = requestSchema(field as z.ZodType);
    return { name, in: where, ...(where === 'path' ? { required: true } : {}), schema, ...(description ? { description } : {}) };
  });
}

/** References to the shared error responses of these statuses. */
export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/E${s}` }]));

/** Named response schemas as components; a schema used inside another becomes a $ref to it. */
export function componentSchemas(named: Record<string, z.ZodType>): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` });
  return tidy(schemas) as Record<string, unknown>;
}
