import * as tf from '@tensorflow/tfjs-core';

/**
 * Weight file layout, chosen so that the same weights always give the same bytes (the pipeline
 * addresses artifacts by content hash):
 *   bytes 0..3   magic "TFW1"
 *   bytes 4..7   header length H, uint32 little-endian
 *   next H bytes header, UTF-8 JSON: {"tensors":[{"name","shape","dtype","offset"}]}, sorted by
 *                name, offsets in bytes from the start of the data section; padded with spaces
 *                so the data section starts on a 4-byte boundary
 *   then         each tensor's values, little-endian float32 or int32, row-major
 */
const MAGIC = [0x54, 0x46, 0x57, 0x31]; // "TFW1"

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
}

function entriesOf(tensors: ReadonlyMap<string, tf.Tensor>): TensorEntry[] {
  let offset = 0;
  return [...tensors.keys()].sort().map((name) => {
    const t = tensors.get(name)!;
    if (t.dtype !== 'float32' && t.dtype !== 'int32')
      throw new Error(`tensor "${name}" has dtype ${t.dtype}; only float32 and int32 are stored`);
    const entry = { name, shape: [...t.shape], dtype: t.dtype, offset } satisfies TensorEntry;
    offset += t.size * 4;
    return entry;
  });
}

/**
 * Serialises named tensors (a model's `variables`) to a deterministic byte array. The values are
 * read asynchronously, as a GPU backend requires.
 */
export async function saveWeights(tensors: ReadonlyMap<string, tf.Tensor>): Promise<Uint8Array> {
  const entries = entriesOf(tensors);
  let headerText = JSON.stringify({ tensors: entries });
  const headerBytes0 = new TextEncoder().encode(headerText);
  headerText += ' '.repeat((4 - ((8 + headerBytes0.length) % 4)) % 4);
  const header = new TextEncoder().encode(headerText);
  const dataBytes = entries.reduce((n, e) => n + tensors.get(e.name)!.size * 4, 0);
  const out = new Uint8Array(8 + header.length + dataBytes);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, header.length, true);
  out.set(header, 8);
  const base = 8 + header.length;
  const read = await Promise.all(entries.map((e) => tensors.get(e.name)!.data()));
  for (const [i, e] of entries.entries()) {
    const values = read[i]!;
    let at = base + e.offset;
    for (const x of values) {
      if (e.dtype === 'float32') view.setFloat32(at, x, true);
      else view.setInt32(at, x, true);
      at += 4;
    }
  }
  return out;
}

function readHeader(bytes: Uint8Array): { entries: Map<string, TensorEntry>; base: number } {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('not a weight file (bad magic bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(4, true);
  if (8 + length > bytes.length) throw new Error('weight file is truncated (header runs past the end)');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as { tensors: TensorEntry[] };
  return { entries: new Map(header.tensors.map((e) => [e.name, e])), base: 8 + length };
}

/** Names, shapes and dtypes stored in a weight file, without loading it. */
export function listWeights(bytes: Uint8Array): { name: string; shape: number[]; dtype: string }[] {
  return [...readHeader(bytes).entries.values()].map(({ name, shape, dtype }) => ({ name, shape, dtype }));
}

export interface LoadOptions {
  /** Parameters to leave as they are, e.g. a classification head whose size changed. */
  skip?: (name: string) => boolean;
}

/**
 * Assigns stored values to `variables` by name. Every variable (not skipped) must be in the file
 * with the same shape and dtype; otherwise this throws, naming the tensor, before assigning
 * anything. Tensors in the file that the model lacks are ignored.
 */
export function loadWeights(
  variables: ReadonlyMap<string, tf.Variable>,
  bytes: Uint8Array,
  options: LoadOptions = {},
): void {
  const { entries, base } = readHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const plan: { variable: tf.Variable; entry: TensorEntry }[] = [];
  for (const name of [...variables.keys()].sort()) {
    if (options.skip?.(name)) continue;
    const variable = variables.get(name)!;
    const entry = entries.get(name);
    if (entry === undefined) throw new Error(`weight file has no tensor "${name}"`);
    if (entry.shape.length !== variable.shape.length || entry.shape.some((s, i) => s !== variable.shape[i])) {
      throw new Error(
        `tensor "${name}" has shape [${entry.shape.join(', ')}] in the weight file but [${variable.shape.join(', ')}] in the model`,
      );
    }
    if (entry.dtype !== variable.dtype)
      throw new Error(`tensor "${name}" is ${entry.dtype} in the weight file but ${variable.dtype} in the model`);
    if (base + entry.offset + variable.size * 4 > bytes.length)
      throw new Error(`weight file is truncated inside tensor "${name}"`);
    plan.push({ variable, entry });
  }
  for (const { variable, entry } of plan) {
    const values = entry.dtype === 'float32' ? new Float32Array(variable.size) : new Int32Array(variable.size);
    let at = base + entry.offset;
    for (let i = 0; i < values.length; i++, at += 4)
      values[i] = entry.dtype === 'float32' ? view.getFloat32(at, true) : view.getInt32(at, true);
    const t = tf.tensor(values, variable.shape, variable.dtype);
    variable.assign(t);
    t.dispose();
  }
}
