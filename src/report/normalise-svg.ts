// Attributes that hold only geometry. Their numbers are rounded; anything else (colours such
// as "#1e3a8a", aria labels that quote data values, class names) is left as vega wrote it.
const GEOMETRY_ATTRIBUTES = new Set([
  'd',
  'transform',
  'x',
  'y',
  'x1',
  'x2',
  'y1',
  'y2',
  'dx',
  'dy',
  'cx',
  'cy',
  'r',
  'rx',
  'ry',
  'width',
  'height',
  'viewBox',
  'points',
  'offset',
  'stroke-width',
  'stroke-dasharray',
  'stroke-dashoffset',
  'stroke-miterlimit',
  'opacity',
  'fill-opacity',
  'stroke-opacity',
  'font-size',
]);
const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi;
const ATTRIBUTE = /(\s)([^\s="]+)="([^"]*)"/g;

/**
 * Makes vega's SVG text a pure function of the chart, and safe to inline beside other charts.
 *
 * - Vega names clip paths and gradients from process-wide counters ("clip7"), so the same chart
 *   gets different ids depending on what was rendered before it, and two charts inlined in one
 *   HTML page can collide. Ids are renumbered in order of appearance under `idPrefix`, which
 *   must be unique per document; the "." separator cannot occur in a section id, so these ids
 *   never clash with the page's own anchors.
 * - Coordinates carry floating-point noise (203.00000000000003) that depends on the exact
 *   arithmetic and Math library of the engine; rounding to 1/1000 px keeps the files stable
 *   across Node versions at no visible cost.
 */
export function normaliseSvg(svg: string, idPrefix: string): string {
  // vega escapes "<" and ">" in both text and attribute values, so every "<...>" is one tag.
  const parts = svg.split(/(<[^>]*>)/);
  const ids = new Map<string, string>();
  for (const part of parts) {
    if (!part.startsWith('<')) continue;
    for (const match of part.matchAll(ATTRIBUTE)) {
      if (match[2] === 'id' && match[3] !== undefined && !ids.has(match[3])) {
        ids.set(match[3], `${idPrefix}.d${ids.size + 1}`);
      }
    }
  }
  return parts.map((part) => (part.startsWith('<') ? rewriteTag(part, ids) : part)).join('');
}

function rewriteTag(tag: string, ids: Map<string, string>): string {
  return tag.replace(ATTRIBUTE, (whole, space: string, name: string, value: string) => {
    let next = value;
    if (name === 'id') {
      next = ids.get(value) ?? value;
    } else if ((name === 'href' || name === 'xlink:href') && value.startsWith('#')) {
      next = `#${ids.get(value.slice(1)) ?? value.slice(1)}`;
    } else if (value.includes('url(#')) {
      next = value.replace(/url\(#([^)]+)\)/g, (ref, id: string) => `url(#${ids.get(id) ?? id})`);
    } else if (GEOMETRY_ATTRIBUTES.has(name)) {
      next = value.replace(NUMBER, roundNumber);
    }
    return next === value ? whole : `${space}${name}="${next}"`;
  });
}

function roundNumber(text: string): string {
  if (!/[.e]/i.test(text)) return text;
  // An integer divided by 1000 is the double nearest that decimal, so String() prints it
  // without new noise (and prints -0 as "0").
  return String(Math.round(Number(text) * 1000) / 1000);
}
