import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanText } from '../src/data/clean-text.ts';
import { stratifiedSplit } from '../src/data/split.ts';
import { readLabelledText } from '../src/data/read-labelled-text.ts';
import { classificationMetrics } from '../src/ml/classification-metrics.ts';
import { NaiveBayes } from '../src/ml/naive-bayes.ts';
import { makeProject } from './helpers/project.ts';
import { join } from 'node:path';

describe('text cleaning', () => {
  it('removes special characters and extra whitespace, lowercases, keeps inner apostrophes', () => {
    assert.equal(cleanText("  Don't   STOP!!  <b>Now</b> -- café #1 'quoted' "), "don't stop b now b café 1 quoted");
    assert.equal(cleanText('***'), '');
  });
});

describe('stratified split', () => {
  const labels = [...Array(50).fill('a'), ...Array(30).fill('b'), ...Array(20).fill('c')] as string[];
  it('gives each label 80:10:10 and is the same for the same seed', () => {
    const s = stratifiedSplit(labels, { train: 0.8, validation: 0.1, test: 0.1 }, 7);
    for (const [label, n] of [
      ['a', 50],
      ['b', 30],
      ['c', 20],
    ] as const) {
      const mine = s.filter((_, i) => labels[i] === label);
      assert.equal(mine.filter((x) => x === 'train').length, 0.8 * n);
      assert.equal(mine.filter((x) => x === 'validation').length, 0.1 * n);
      assert.equal(mine.filter((x) => x === 'test').length, 0.1 * n);
    }
    assert.deepEqual(stratifiedSplit(labels, { train: 0.8, validation: 0.1, test: 0.1 }, 7), s);
    assert.notDeepEqual(stratifiedSplit(labels, { train: 0.8, validation: 0.1, test: 0.1 }, 8), s);
  });
  it('rejects impossible fractions', () => {
    assert.throws(() => stratifiedSplit(labels, { train: 0, validation: 0, test: 0 }, 1), /split fractions/);
  });
});

describe('the SpamAssassin corpus and group balancing', () => {
  it('loads 6046 messages as subject and body, labelled by sub-corpus', async () => {
    const { loadSpamAssassin } = await import('../src/data/spam-assassin.ts');
    const emails = loadSpamAssassin();
    assert.equal(emails.length, 6046);
    assert.equal(emails.filter((e) => e.label === 'spam').length, 500 + 1396);
    // Bounces and forwards quote other messages' headers in their bodies; those few stay.
    assert.ok(emails.filter((e) => /^Received:/m.test(e.text)).length < 20, 'transport headers are dropped');
    assert.ok(
      emails.every((e) => !/<\/?(html|body|font)\b/i.test(e.text)),
      'HTML tags are removed',
    );
  });
  it('balances groups to the smallest, reproducibly', async () => {
    const { balanceGroups } = await import('../src/data/balance.ts');
    const groups = [...Array(10).fill('a'), ...Array(4).fill('b'), ...Array(7).fill('c')] as string[];
    const keep = balanceGroups(groups, 3);
    for (const g of ['a', 'b', 'c']) assert.equal(groups.filter((x, i) => x === g && keep[i]).length, 4);
    assert.deepEqual(balanceGroups(groups, 3), keep);
  });
});

describe('labelled corpus files', () => {
  it('reads TSV and JSONL and names the line of a bad row', async () => {
    const dir = makeProject({
      'a.tsv': 'label\tgroup\ttext\npos\tg1\tgood thing\nneg\t\tbad thing\n',
      'b.jsonl': '{"text": "x", "label": "pos"}\n\n{"text": "", "label": "neg"}\n',
      'c.txt': 'x',
    });
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(':memory:');
    const db = await inst.connect();
    await db.run(
      `COPY (SELECT * FROM (VALUES ('good', 'pos', 'g'), ('bad', 'neg', NULL)) t(text, label, "group")) TO '${join(dir, 'd.parquet')}' (FORMAT parquet)`,
    );
    db.closeSync();
    inst.closeSync();
    assert.deepEqual(await readLabelledText(join(dir, 'd.parquet')), {
      text: ['good', 'bad'],
      label: ['pos', 'neg'],
      group: ['g', 'all'],
    });
    assert.deepEqual(await readLabelledText(join(dir, 'a.tsv')), {
      text: ['good thing', 'bad thing'],
      label: ['pos', 'neg'],
      group: ['g1', 'all'],
    });
    await assert.rejects(readLabelledText(join(dir, 'b.jsonl')), /b\.jsonl:3: field "text" is missing or empty/);
    await assert.rejects(readLabelledText(join(dir, 'c.txt')), /unsupported corpus format/);
  });
});

describe('baseline model and metrics', () => {
  it('accuracy and macro F1 match hand-computed values', () => {
    const m = classificationMetrics(['a', 'a', 'b', 'b'], ['a', 'b', 'b', 'b']);
    assert.equal(m.accuracy, 0.75);
    // F1(a) = 2*1/(2+0+1) = 2/3; F1(b) = 2*2/(4+1+0) = 4/5
    assert.ok(Math.abs(m.macroF1 - (2 / 3 + 4 / 5) / 2) < 1e-12);
  });
  it("each class's F1 against the rest is its binary F1; a class never predicted correctly scores 0", () => {
    const m = classificationMetrics(
      ['spam', 'ham', 'spam', 'ham', 'ham'],
      ['spam', 'spam', 'ham', 'ham', '<no label>'],
      ['spam', 'ham'],
    );
    // spam: tp 1, fp 1, fn 1 -> 2/4; ham: tp 1, fp 1, fn 2 -> 2/5; the non-label is no class.
    assert.deepEqual(m.classF1, { spam: 2 / 4, ham: 2 / 5 });
    assert.equal(m.macroF1, (2 / 4 + 2 / 5) / 2);
    assert.deepEqual(classificationMetrics(['a', 'b'], ['b', 'a']).classF1, { a: 0, b: 0 });
  });
  it('naive Bayes separates a separable toy corpus', () => {
    const docs = [
      ['good', 'great'],
      ['great', 'fine'],
      ['bad', 'awful'],
      ['awful', 'poor'],
    ];
    const nb = new NaiveBayes(1).fit(docs, ['pos', 'pos', 'neg', 'neg']);
    assert.equal(nb.predict(['great']), 'pos');
    assert.equal(nb.predict(['poor', 'bad']), 'neg');
  });
});
