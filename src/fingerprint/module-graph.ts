import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { isAbsolute, join, relative } from 'node:path';
import type { FileHasher } from './file-hasher.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

/** What a `uses:` module runs: its own source and everything it pulls in. */
export interface CodeClosure {
  /** Project-relative path of every local module reached by static imports -> sha256 of its source. */
  files: Record<string, string>;
  /** Every npm package imported from those modules -> version resolved in package-lock.json. */
  packages: Record<string, string>;
}

interface CachedClosure {
  files: Record<string, string>;
  packages: string[];
}

const BUILTINS = new Set(builtinModules);

/** `@scope/name/sub/path` -> `@scope/name`; `name/sub` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/**
 * Transitive import closures of stage modules. The import graph is read with esbuild (it parses
 * TypeScript and resolves paths the way Node and tsx do); a closure is cached on disk and reused
 * while none of its files changed, since the imports of unchanged files cannot have changed.
 */
export class ModuleGraph {
  private cache: Record<string, CachedClosure> = {};
  private dirty = false;
  private lockVersions: Map<string, string> | undefined;
  private readonly memo = new Map<string, Promise<CodeClosure>>();

  private constructor(
    private readonly root: string,
    private readonly hasher: FileHasher,
    private readonly cacheFile: string | undefined,
  ) {}

  static async open(root: string, hasher: FileHasher, cacheFile?: string): Promise<ModuleGraph> {
    const graph = new ModuleGraph(root, hasher, cacheFile);
    if (cacheFile !== undefined) {
      try {
        graph.cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, CachedClosure>;
      } catch {
        // No cache yet: closures are computed from scratch.
      }
    }
    return graph;
  }

  closure(entry: string): Promise<CodeClosure> {
    let p = this.memo.get(entry);
    if (p === undefined) {
      p = this.compute(entry);
      this.memo.set(entry, p);
    }
    return p;
  }

  private async compute(entry: string): Promise<CodeClosure> {
    const cached = this.cache[entry];
    if (cached !== undefined && (await this.unchanged(cached.files))) {
      return { files: cached.files, packages: await this.versions(cached.packages) };
    }
    const { files: paths, packages } = await this.scan(entry);
    const files: Record<string, string> = {};
    for (const f of paths.sort()) files[f] = (await this.hasher.hash(f)) ?? '';
    this.cache[entry] = { files, packages: packages.sort() };
    this.dirty = true;
    return { files, packages: await this.versions(packages) };
  }

  private async unchanged(files: Record<string, string>): Promise<boolean> {
    for (const [f, h] of Object.entries(files)) if ((await this.hasher.hash(f)) !== h) return false;
    return true;
  }

  private async scan(entry: string): Promise<{ files: string[]; packages: string[] }> {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [join(this.root, entry)],
      absWorkingDir: this.root,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
      // Non-code files a stage imports (JSON data, text) are part of what it computes.
      loader: { '.txt': 'text', '.csv': 'text', '.md': 'text' },
    });
    const files: string[] = [];
    const packages = new Set<string>();
    for (const [path, input] of Object.entries(result.metafile.inputs)) {
      const abs = isAbsolute(path) ? path : join(this.root, path);
      if (!abs.includes(`${'/'}node_modules${'/'}`)) files.push(relative(this.root, abs));
      for (const imp of input.imports) {
        if (!imp.external || imp.path.startsWith('.') || isAbsolute(imp.path)) continue;
        const name = packageName(imp.path.replace(/^node:/, ''));
        if (imp.path.startsWith('node:') || BUILTINS.has(name)) continue;
        packages.add(name);
      }
    }
    return { files, packages: [...packages] };
  }

  private async versions(names: string[]): Promise<Record<string, string>> {
    if (this.lockVersions === undefined) {
      // Stamped before they are read: a no-op's record of what it decided from (up-to-date-record.ts).
      this.hasher.witness(join(this.root, 'package-lock.json'));
      this.lockVersions = await readLockVersions(this.root);
    }
    const out: Record<string, string> = {};
    for (const name of names) {
      const locked = this.lockVersions.get(name);
      if (locked === undefined) this.hasher.witness(join(this.root, 'node_modules', name, 'package.json'));
      out[name] = locked ?? (await installedVersion(this.root, name)) ?? 'unresolved';
    }
    return out;
  }

  async save(): Promise<void> {
    if (!this.dirty || this.cacheFile === undefined) return;
    await writeFileAtomic(this.cacheFile, JSON.stringify(this.cache));
    this.dirty = false;
  }
}

async function readLockVersions(root: string): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  try {
    const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
      packages?: Record<string, { version?: string }>;
    };
    for (const [path, info] of Object.entries(lock.packages ?? {})) {
      const prefix = 'node_modules/';
      // Only top-level installs: those are what a bare import from the project resolves to.
      if (!path.startsWith(prefix) || path.slice(prefix.length).includes('/node_modules/')) continue;
      if (info.version !== undefined) versions.set(path.slice(prefix.length), info.version);
    }
  } catch {
    // No package-lock.json: fall back to the installed package.json of each import.
  }
  return versions;
}

async function installedVersion(root: string, name: string): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version;
  } catch {
    return undefined;
  }
}
