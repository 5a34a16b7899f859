// Characters that start inline syntax in GitHub-flavoured Markdown, plus `|`, which ends a table
// cell. Parentheses, braces and "!" only mean something next to "[", which is escaped, so they
// stay as they are and the raw Markdown stays readable.
const INLINE_SPECIAL = /[\\`*_[\]<>|~&]/g;

/**
 * Turns plain text into Markdown that renders as exactly that text, on one line, in a
 * paragraph, heading or table cell alike.
 */
export function escapeMarkdown(text: string): string {
  return escapeLineStart(escapeMarkdownInline(oneLine(text)));
}

/**
 * A line break inside a table cell would end the row, and one in a paragraph could start a list
 * or heading on the next line; the HTML twin collapses it to a space anyway.
 */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Escapes the characters that start inline syntax, for text that is not at the start of a line. */
export function escapeMarkdownInline(text: string): string {
  return text.replace(INLINE_SPECIAL, (ch) => `\\${ch}`);
}

/** Escapes what would start a block (heading, list item, rule) at the start of a line. */
export function escapeLineStart(inline: string): string {
  // Block syntax is recognised only at the start of a line: a heading ("#"), a list item
  // ("- x", "+ x", "1. x", "1) x") or a rule ("---"). "-0.5" and "0.91" are left alone.
  return inline
    .replace(/^#/, '\\#')
    .replace(/^([-+])(?=[\s-]|$)/, '\\$1')
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, '$1\\$2');
}
