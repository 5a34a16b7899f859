/** Runs `body` on `model` and disposes the model after it, whether the body passes or throws. */
export async function disposing<M extends { dispose(): void }>(
  model: M,
  body: (model: M) => Promise<void> | void,
): Promise<void> {
  try {
    await body(model);
  } finally {
    model.dispose();
  }
}
