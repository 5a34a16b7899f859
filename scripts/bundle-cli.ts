/**
 * Bundles the CLI (src/cli/main.ts and the modules it imports) into dist/bundle/, which
 * bin/pipeline.js loads; run by `npm run build` after tsc. Loading about a hundred separate
 * modules was a third of a no-op `repro`'s time; one file (plus a chunk per lazily imported
 * command) loads in a fraction of it. Packages stay external: they load from node_modules as
 * before, and the DuckDB and tfjs native modules cannot be bundled anyway.
 *
 * Processes the CLI starts (the launcher, a stage's worker, a Slurm job's `pipeline run-stage`)
 * still run the files tsc wrote to dist/. Modules find those, and files such as package.json,
 * from their own `import.meta.url`, so each bundled module's `import.meta.url` is replaced by the
 * URL its tsc-compiled file has in dist/: every such path resolves exactly as it did.
 */
import { build, type Plugin } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const outdir = join(root, 'dist', 'bundle');

const ownUrls: Plugin = {
  name: 'dist-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const rel = relative(src, args.path);
      if (rel.startsWith('..') || !text.includes('import.meta.url')) return undefined;
      const distFile = relative(outdir, join(root, 'dist', rel.replace(/\.ts$/, '.js')))
        .split('\\')
        .join('/');
      const url = `new URL(${JSON.stringify(distFile)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

/**
 * Small pure-JavaScript packages every command loads: bundled, as resolving and loading them
 * from node_modules through the CommonJS loader cost more than the code itself. Every other
 * package stays external.
 */
const BUNDLED = new Set(['commander', 'tree-kill', 'fastest-levenshtein']);
const onlyBundled: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]!;
      if (args.path.startsWith('node:') || !BUNDLED.has(name)) return { path: args.path, external: true };
      return undefined;
    });
  },
};

// Chunk names carry content hashes: clear the old ones rather than let them pile up.
await rm(outdir, { recursive: true, force: true });
await build({
  // The no-op's short way is its own small entry: bin/pipeline.js loads it first, and the CLI only when it declines.
  entryPoints: [join(src, 'cli', 'main.ts'), join(src, 'cli', 'up-to-date-cli.ts')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [ownUrls, onlyBundled],
  // CommonJS packages call require() for Node's modules; an ES module has none of its own.
  banner: {
    js: "import { createRequire as __pipelineRequire } from 'node:module';\nconst require = __pipelineRequire(import.meta.url);",
  },
  sourcemap: true,
  logLevel: 'warning',
});
