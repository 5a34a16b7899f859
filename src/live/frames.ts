import type { Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';

/** Largest message either side accepts: a table or blob the size of a model checkpoint fits. */
const MAX_FRAME = 1 << 30;

/**
 * Messages on the read socket: a 4-byte length, then the value in V8's serialisation (which
 * keeps bigint, Uint8Array and Date, as DuckDB's JS values need).
 */
export function sendFrame(socket: Socket, value: unknown): void {
  const body = serialize(value);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  socket.write(Buffer.concat([head, body]));
}

/** Calls `onFrame` for each complete message read from the socket. */
export function readFrames(socket: Socket, onFrame: (value: unknown) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readUInt32BE(0);
      if (size > MAX_FRAME) {
        socket.destroy(new Error(`a message of ${size} bytes on the read socket is too large`));
        return;
      }
      if (pending.length < 4 + size) break;
      const body = pending.subarray(4, 4 + size);
      pending = pending.subarray(4 + size);
      let value: unknown;
      try {
        value = deserialize(body);
      } catch {
        socket.destroy(new Error('an unreadable message on the read socket'));
        return;
      }
      onFrame(value);
    }
  });
}
