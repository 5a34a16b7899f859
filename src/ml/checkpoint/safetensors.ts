/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of
 * UTF-8 JSON mapping each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into
 * the data section that follows; an optional "__metadata__" map of strings), then the raw
 * little-endian tensor bytes, row-major. Weights are read into float32, the precision the models
 * compute in; half-precision checkpoints widen exactly.
 */

/** Float dtypes a weight may be stored in; others (integer buffers) are listed but not decoded. */
export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';

const BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface StoredTensor {
  dtype: string;
  shape: number[];
  /** Byte range inside the file. */
  begin: number;
  end: number;
}

/** A parsed safetensors file: the header, and values decoded on demand. */
export class SafeTensors {
  private constructor(
    private readonly bytes: Uint8Array,
    readonly tensors: ReadonlyMap<string, StoredTensor>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  /** Parses and checks the header: every range inside the file, sized for its shape, none overlapping. */
  static parse(bytes: Uint8Array, file = 'model.safetensors'): SafeTensors {
    const fail = (why: string): never => {
      throw new Error(`${file}: ${why}`);
    };
    if (bytes.length < 8) fail('too short for a safetensors header');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = Number(view.getBigUint64(0, true));
    if (length > bytes.length - 8)
      fail(`header length ${length} runs past the end of the file (${bytes.length} bytes)`);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length))) as Record<
        string,
        unknown
      >;
    } catch (e) {
      return fail(`header is not JSON (${(e as Error).message})`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
    const base = 8 + length;
    const tensors = new Map<string, StoredTensor>();
    let metadata: Record<string, string> = {};
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = (entry ?? {}) as Record<string, string>;
        continue;
      }
      const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const size = typeof e.dtype === 'string' ? BYTES[e.dtype] : undefined;
      if (size === undefined) fail(`tensor "${name}" has unknown dtype ${JSON.stringify(e.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0))
        fail(`tensor "${name}" has a bad shape ${JSON.stringify(e.shape)}`);
      const offsets = e.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0))
        fail(`tensor "${name}" has bad data_offsets ${JSON.stringify(offsets)}`);
      const [begin, end] = offsets as [number, number];
      const shape = e.shape as number[];
      const expected = shape.reduce((n, d) => n * d, 1) * size!;
      if (end - begin !== expected)
        fail(
          `tensor "${name}" holds ${end - begin} bytes but ${e.dtype as string} [${shape.join(', ')}] needs ${expected}`,
        );
      if (base + end > bytes.length) fail(`tensor "${name}" runs past the end of the file`);
      tensors.set(name, { dtype: e.dtype as string, shape, begin: base + begin, end: base + end });
    }
    const ranges = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin);
    for (let i = 1; i < ranges.length; i++) {
      if (ranges[i]![1].begin < ranges[i - 1]![1].end)
        fail(`tensors "${ranges[i - 1]![0]}" and "${ranges[i]![0]}" overlap`);
    }
    return new SafeTensors(bytes, tensors, metadata);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor's values as float32 (from F64, F32, F16 or BF16). */
  float32(name: string): { shape: number[]; data: Float32Array } {
    const t = this.tensors.get(name);
    if (t === undefined) throw new Error(`checkpoint has no tensor "${name}"`);
    const n = t.shape.reduce((a, d) => a * d, 1);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + t.begin, t.end - t.begin);
    const out = new Float32Array(n);
    switch (t.dtype) {
      case 'F64':
        for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
        break;
      case 'F32':
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
        break;
      case 'F16':
        for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
        break;
      case 'BF16': {
        // bfloat16 is the top half of a float32: widen by shifting into place.
        const word = new DataView(new ArrayBuffer(4));
        for (let i = 0; i < n; i++) {
          word.setUint32(0, view.getUint16(2 * i, true) << 16);
          out[i] = word.getFloat32(0);
        }
        break;
      }
      default:
        throw new Error(`tensor "${name}" is ${t.dtype}; weights must be F64, F32, F16 or BF16`);
    }
    return { shape: [...t.shape], data: out };
  }
}

/** IEEE 754 binary16 bits to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A number to binary16 bits, rounding to nearest, ties to even. */
export function floatToHalf(x: number): number {
  const f32 = new DataView(new ArrayBuffer(4));
  f32.setFloat32(0, x);
  const bits = f32.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** A number to bfloat16 bits (the top 16 bits of its float32), rounding to nearest, ties to even. */
export function floatToBfloat16(x: number): number {
  const f32 = new DataView(new ArrayBuffer(4));
  f32.setFloat32(0, x);
  const bits = f32.getUint32(0);
  if (Number.isNaN(x)) return 0x7fc0;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

export interface TensorToWrite {
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  data: ArrayLike<number>;
}

/**
 * Writes tensors in the safetensors format (used by tests and tools to make checkpoints; the
 * pipeline itself stores weights in its own format). Names are written sorted, so the same
 * tensors always give the same bytes.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (n !== t.data.length)
      throw new Error(`tensor "${name}": shape [${t.shape.join(', ')}] needs ${n} values, got ${t.data.length}`);
    const size = n * BYTES[t.dtype]!;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let text = JSON.stringify(header);
  // The format recommends a header padded to 8 bytes so the data section is aligned.
  text += ' '.repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    for (let i = 0; i < t.data.length; i++) {
      const x = t.data[i]!;
      if (t.dtype === 'F32') {
        view.setFloat32(at, x, true);
        at += 4;
      } else {
        view.setUint16(at, t.dtype === 'F16' ? floatToHalf(x) : floatToBfloat16(x), true);
        at += 2;
      }
    }
  }
  return out;
}
