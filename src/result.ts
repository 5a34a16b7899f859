/**
 * A value or the reasons it could not be produced. Config loading and graph building return
 * these instead of throwing so that every problem in a file can be reported at once, each with
 * its own location, rather than only the first one to throw.
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
