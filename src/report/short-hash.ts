// Twelve hex digits tell artifacts apart in practice; the full hash stays one hover (HTML
// title) or one section (the closing Sources list) away.
const SHORT_LENGTH = 12;

export function shortHash(hash: string): string {
  return hash.slice(0, SHORT_LENGTH);
}
