import { statSync } from 'node:fs';

/** Size and modification time of a file (nanoseconds), or '-' when it does not exist: changes on every write. */
export function fileStamp(path: string): string {
  const stat = statSync(path, { throwIfNoEntry: false, bigint: true });
  return stat ? `${stat.size}:${stat.mtimeNs}` : '-';
}
