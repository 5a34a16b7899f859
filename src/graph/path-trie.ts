/** A node of the trie: one path segment; `owners` produce exactly the path ending here. */
interface TrieNode {
  children: Map<string, TrieNode>;
  owners: string[];
  /** Every owner at or below this node, filled on first query and dropped on insert. */
  below?: string[];
}

function newNode(): TrieNode {
  return { children: new Map(), owners: [] };
}

/**
 * Output paths by segment, to link a dependency to every output that equals it, contains it
 * (the dep lies inside an output directory) or lies inside it (the dep is a directory holding
 * outputs), as DVC links them, in time proportional to the path's depth and the matches, not to
 * the number of outputs.
 */
export class PathTrie {
  private readonly root = newNode();

  add(path: string, owner: string): void {
    let node = this.root;
    node.below = undefined;
    for (const seg of path.split('/')) {
      let next = node.children.get(seg);
      if (next === undefined) {
        next = newNode();
        node.children.set(seg, next);
      }
      node = next;
      node.below = undefined;
    }
    node.owners.push(owner);
  }

  /** Owners of the exact path. */
  exact(path: string): string[] {
    let node: TrieNode | undefined = this.root;
    for (const seg of path.split('/')) {
      node = node.children.get(seg);
      if (node === undefined) return [];
    }
    return node.owners;
  }

  /** Owners of outputs that equal `path`, are above it, or are below it; each once, in insertion order per node. */
  overlapping(path: string): string[] {
    const found = new Set<string>();
    let node: TrieNode | undefined = this.root;
    for (const seg of path.split('/')) {
      node = node.children.get(seg);
      if (node === undefined) return [...found];
      for (const o of node.owners) found.add(o);
    }
    for (const o of this.below(node)) found.add(o);
    return [...found];
  }

  private below(node: TrieNode): string[] {
    if (node.below !== undefined) return node.below;
    const all = [...node.owners];
    for (const child of node.children.values()) all.push(...this.below(child));
    node.below = all;
    return all;
  }
}
