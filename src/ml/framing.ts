import type { ModelFamily, SpecialTokens } from './models/language-model.ts';

function need(special: SpecialTokens, role: 'eos' | 'cls' | 'sep', family: ModelFamily): number {
  const id = special[role];
  if (id === undefined)
    throw new Error(`the tokenizer has no ${role} token, which the ${family} family frames its inputs with`);
  return id;
}

/**
 * A text's token ids as the family reads them, at most `contextLength` long (the text is cut,
 * never the markers): GPT ends with end-of-text, where its classifier reads the sequence; BERT
 * starts with CLS, where its classifier reads, and ends with SEP, as it was pre-trained; T5's
 * encoder input ends with `</s>`, as T5's does.
 */
export function frameText(
  family: ModelFamily,
  text: readonly number[],
  special: SpecialTokens,
  contextLength: number,
): number[] {
  if (family === 'bert') {
    const cls = need(special, 'cls', family);
    // A BERT checkpoint always has [SEP]; a tokenizer of ours too. Falling back to eos keeps a
    // tokenizer without one usable.
    const sep = special.sep ?? need(special, 'eos', family);
    return [cls, ...text.slice(0, Math.max(0, contextLength - 2)), sep];
  }
  return [...text.slice(0, Math.max(0, contextLength - 1)), need(special, 'eos', family)];
}

/** A class's label text as T5's decoder target: its tokens, then `</s>`. */
export function frameTarget(label: readonly number[], special: SpecialTokens): number[] {
  return [...label, need(special, 'eos', 't5')];
}
