/** A piece of report prose: plain text, or code (a command, a stage name) shown as code. */
export interface TextSegment {
  code: boolean;
  text: string;
}

/**
 * Splits report prose (a subtitle, paragraph or note) into text and code, marked as in Markdown:
 * a run of backticks opens a code span that the next run of the same length closes, so
 * ``a ` b`` holds a backtick. A run with no partner is plain text. One leading and one trailing
 * space are dropped from code that has text besides spaces on both sides of them, as CommonMark does.
 */
export function inlineSegments(text: string): TextSegment[] {
  const segments: TextSegment[] = [];
  const runs = /`+/g;
  let plainFrom = 0;
  let open: RegExpExecArray | null;
  while ((open = runs.exec(text)) !== null) {
    const fence = open[0];
    const closeRe = new RegExp(`(?<!\`)${fence}(?!\`)`, 'g');
    closeRe.lastIndex = open.index + fence.length;
    const close = closeRe.exec(text);
    if (close === null) continue;
    if (open.index > plainFrom) segments.push({ code: false, text: text.slice(plainFrom, open.index) });
    let code = text.slice(open.index + fence.length, close.index);
    if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ') && code.trim() !== '') code = code.slice(1, -1);
    segments.push({ code: true, text: code });
    plainFrom = close.index + fence.length;
    runs.lastIndex = plainFrom;
  }
  if (plainFrom < text.length) segments.push({ code: false, text: text.slice(plainFrom) });
  return segments;
}
