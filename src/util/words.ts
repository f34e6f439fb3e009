/** "1 image", "3 images": a count with its noun in agreement (irregular plurals passed in). */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** "is" or "are", agreeing with a count. */
export function isAre(count: number): string {
  return count === 1 ? 'is' : 'are';
}
