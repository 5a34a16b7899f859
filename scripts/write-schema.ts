/** Writes schema/pipeline.schema.json from the zod definition in src/config/schema.ts. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pipelineJsonSchema } from '../src/config/schema.ts';

export function schemaText(): string {
  const schema = { $id: 'pipeline.schema.json', title: 'pipeline.yaml', ...(pipelineJsonSchema() as object) };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = fileURLToPath(new URL('../schema/pipeline.schema.json', import.meta.url));
  writeFileSync(out, schemaText());
  console.log(`wrote ${out}`);
}
