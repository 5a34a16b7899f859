import { distance } from 'fastest-levenshtein';

/**
 * The closest candidate by edit distance, if close enough to be a likely typo. Ties (a swap of
 * two letters costs 2, like two substitutions) go to the candidate sharing more letters, so
 * "dpes" suggests "deps" rather than "desc".
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const scored = candidates.map((c) => ({ c, d: distance(word, c), shared: sharedLetters(word, c) }));
  scored.sort((a, b) => a.d - b.d || b.shared - a.shared);
  const best = scored[0]!;
  return best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.c : undefined;
}

function sharedLetters(a: string, b: string): number {
  const counts = new Map<string, number>();
  for (const ch of a) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let shared = 0;
  for (const ch of b) {
    const n = counts.get(ch) ?? 0;
    if (n > 0) {
      shared++;
      counts.set(ch, n - 1);
    }
  }
  return shared;
}
