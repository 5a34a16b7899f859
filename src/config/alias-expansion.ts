import { isAlias, isCollection, isPair, visit, type Alias, type Document, type Node } from 'yaml';

/**
 * Where an alias bomb is (nested anchors whose aliases multiply into an exponential document),
 * for the located error: the yaml package refuses such a document while converting it, without a
 * position. The alias pointed at is the one that expands to the most nodes, the first of equals.
 */
export function largestAliasRange(doc: Document.Parsed): [number, number] | undefined {
  const aliases: Alias[] = [];
  visit(doc, { Alias: (_key, node) => void aliases.push(node) });
  // Each resolve() walks the document: enough for the files a person writes, bounded for others.
  if (aliases.length > 2000) return rangeOf(aliases[0]);
  const sizes = new Map<unknown, number>();
  const sizeOf = (node: unknown, seen: Set<unknown>): number => {
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (seen.has(node)) return 1;
    seen.add(node);
    let size = 1;
    if (isAlias(node)) size = sizeOf(node.resolve(doc), seen);
    else if (isPair(node)) size = sizeOf(node.key, seen) + sizeOf(node.value, seen);
    else if (isCollection(node))
      size = 1 + (node.items as unknown[]).reduce<number>((n, item) => n + sizeOf(item, seen), 0);
    seen.delete(node);
    sizes.set(node, size);
    return size;
  };
  let best: { size: number; node: Node } | undefined;
  for (const alias of aliases) {
    const size = sizeOf(alias, new Set());
    if (best === undefined || size > best.size) best = { size, node: alias };
  }
  return rangeOf(best?.node);
}

function rangeOf(node: Node | undefined): [number, number] | undefined {
  const range = node?.range;
  return range === undefined || range === null ? undefined : [range[0], range[1]];
}
