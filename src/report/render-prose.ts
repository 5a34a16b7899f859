import { escapeHtml } from './escape-html.ts';
import { escapeLineStart, escapeMarkdownInline, oneLine } from './escape-markdown.ts';
import { inlineSegments } from './inline-code.ts';

/**
 * Report prose (subtitle, paragraphs, notes) in both twins: text escaped for each, code spans
 * marked with backticks shown as code, <code> in HTML and a code span in Markdown, so a command
 * the reader should type is neither printed with its backticks nor escaped twice.
 */
export const renderProse = {
  html(text: string): string {
    return inlineSegments(text)
      .map((s) => (s.code ? `<code>${escapeHtml(s.text)}</code>` : escapeHtml(s.text)))
      .join('');
  },
  markdown(text: string): string {
    const segments = inlineSegments(oneLine(text));
    const out = segments.map((s) => (s.code ? codeSpan(s.text) : escapeMarkdownInline(s.text))).join('');
    return segments[0]?.code === false ? escapeLineStart(out) : out;
  },
};

/** A Markdown code span holding `code` exactly: its fence is longer than any backtick run inside. */
function codeSpan(code: string): string {
  const longest = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad =
    code.startsWith('`') || code.endsWith('`') || (code.startsWith(' ') && code.endsWith(' ') && code.trim() !== '')
      ? ' '
      : '';
  return `${fence}${pad}${code}${pad}${fence}`;
}
