import { join } from 'node:path';
import { readLabelledText } from '../src/data/read-labelled-text.ts';
import { loadSpamAssassin } from '../src/data/spam-assassin.ts';
import { stratifiedSplit } from '../src/data/split.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';

interface Params extends JsonObject {
  /** `spam-assassin` (shipped in an npm package), or a project file: .tsv, .csv, .jsonl or .parquet. */
  source: string;
  /** Keep at most this many texts per group (a seeded draw), to size a run for a CPU; null keeps all. */
  max_per_group: number | null;
  /** Texts are cut to this many characters; long emails add cost, not signal, for small models. */
  max_chars: number;
  seed: number;
}

/** The labelled corpus, as one table (id, text, label, group) a reviewer can query. */
export default defineStage<Params>(async (ctx) => {
  const { source, max_per_group: cap, max_chars: maxChars, seed } = ctx.params;
  const rows =
    source === 'spam-assassin'
      ? loadSpamAssassin()
      : await readLabelledText(join(ctx.root, source)).then((t) =>
          t.text.map((text, i) => ({ id: String(i + 1), text, label: t.label[i]!, group: t.group[i]! })),
        );
  let keep = rows.map(() => true);
  if (cap !== null) {
    // The split helper draws a seeded, per-group sample: "train" marks the rows kept.
    const groups = rows.map((r) => r.group);
    const sizes = new Map<string, number>();
    for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
    keep = rows.map(() => false);
    for (const [group, n] of sizes) {
      const fraction = Math.min(1, cap / n);
      const members = rows.flatMap((r, i) => (r.group === group ? [i] : []));
      const picked = stratifiedSplit(
        members.map(() => group),
        { train: fraction, validation: 0, test: 1 - fraction },
        seed,
      );
      members.forEach((row, k) => (keep[row] = picked[k] === 'train'));
    }
  }
  const kept = rows.filter((_, i) => keep[i]);
  const groups: Record<string, number> = {};
  for (const r of kept) groups[`group_${r.group}`] = (groups[`group_${r.group}`] ?? 0) + 1;
  ctx.log(`${rows.length} texts from ${source}, ${kept.length} kept`);
  return {
    tables: {
      corpus: {
        id: kept.map((r) => r.id),
        text: kept.map((r) => r.text.slice(0, maxChars)),
        label: kept.map((r) => r.label),
        group: kept.map((r) => r.group),
      },
    },
    metrics: { texts: kept.length, ...groups },
  };
});
