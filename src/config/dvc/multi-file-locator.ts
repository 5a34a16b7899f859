import type { Location } from '../diagnostic.ts';
import type { Locator, SourceMap, YamlPath } from '../source-map.ts';

/** Locates paths whose first element names the dvc.yaml (project-relative) they are in. */
export class MultiFileLocator implements Locator {
  constructor(
    private readonly maps: ReadonlyMap<string, SourceMap>,
    private readonly fallbackFile: string,
  ) {}

  locate(path: YamlPath, opts?: { key?: boolean }): Location {
    const [file, ...rest] = path;
    const map = typeof file === 'string' ? this.maps.get(file) : undefined;
    if (map === undefined)
      return { file: this.fallbackFile, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
    return map.locate(rest, opts);
  }
}
