/**
 * pgvector's text form. pgvector stores float4 and prints the shortest decimal that reads back as the same
 * float4, and a float32 printed by JavaScript reads back exactly too: vectors round-trip bit for bit, so exact
 * scans over PostgreSQL give the same distances as over SQLite.
 */
export function toPgVector(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}

export function fromPgVector(text: string): Float32Array {
  const body = text.slice(1, -1);
  return body === '' ? new Float32Array(0) : Float32Array.from(body.split(','), Number);
}
