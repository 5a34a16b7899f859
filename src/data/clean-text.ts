/**
 * The study's text cleaning: remove special characters and extra whitespace, lowercase. Letters
 * and digits of any script are kept (\p{L}, \p{N}), as are apostrophes inside words, so
 * "don't" stays one token for the tokenizer.
 */
export function cleanText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}
