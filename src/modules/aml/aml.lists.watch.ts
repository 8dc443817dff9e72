/**
 * The list watcher (a scheduled job): reads the configured directory (`AML_LISTS_DIR`, files named by source) and
 * downloads the configured URLs (`AML_LISTS_URL_*`), and loads each through the ListLoader, which adds a version
 * only when the file's checksum changed. Downloads go to a temporary file first (a list can be large), streamed.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { systemContext } from '../../platform/audit.ts';
import type { ListsConfigValues } from './aml.lists.config.ts';
import type { ListFile } from './aml.lists.parse.ts';
import type { ListLoader, ListLoadOutcome } from './aml.lists.ts';
import type { ListSource } from './aml.tables.ts';

/** The file names the watcher looks for in AML_LISTS_DIR (and the CLI's examples). */
export const LIST_FILE_NAMES: Record<ListSource, { main: string; alt?: string }> = {
  un: { main: 'un-consolidated.xml' },
  ofac: { main: 'ofac-sdn.csv', alt: 'ofac-alt.csv' },
  opensanctions: { main: 'opensanctions.jsonl' },
};

export const fileAt = (path: string): ListFile => ({ origin: path, open: () => createReadStream(path) });

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export interface WatchResult {
  source: ListSource;
  origin: string;
  outcome?: ListLoadOutcome;
  /** Why this source was not loaded (the other sources still are). */
  error?: string;
}

async function download(url: string, path: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
  if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(path));
}

export async function watchLists(loader: ListLoader, config: ListsConfigValues): Promise<WatchResult[]> {
  const results: WatchResult[] = [];
  const run = async (source: ListSource, origin: string, load: () => Promise<ListLoadOutcome>) => {
    try {
      results.push({ source, origin, outcome: await load() });
    } catch (error) {
      results.push({ source, origin, error: (error as Error).message });
    }
  };
  if (config.AML_LISTS_DIR) {
    for (const [source, names] of Object.entries(LIST_FILE_NAMES) as [
      ListSource,
      { main: string; alt?: string },
    ][]) {
      const main = join(config.AML_LISTS_DIR, names.main);
      if (!(await exists(main))) continue;
      const alt = names.alt ? join(config.AML_LISTS_DIR, names.alt) : null;
      const altFile = alt && (await exists(alt)) ? fileAt(alt) : undefined;
      await run(source, main, () => loader.load(source, fileAt(main), altFile, systemContext()));
    }
  }
  const urls: [ListSource, string | undefined, string | undefined][] = [
    ['un', config.AML_LISTS_URL_UN, undefined],
    ['ofac', config.AML_LISTS_URL_OFAC, config.AML_LISTS_URL_OFAC_ALT],
    ['opensanctions', config.AML_LISTS_URL_OPENSANCTIONS, undefined],
  ];
  for (const [source, url, altUrl] of urls) {
    if (!url) continue;
    await run(source, url, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'aml-list-'));
      try {
        await download(url, join(dir, 'main'));
        if (altUrl) await download(altUrl, join(dir, 'alt'));
        const main: ListFile = { origin: url, open: () => createReadStream(join(dir, 'main')) };
        const alt: ListFile | undefined = altUrl
          ? { origin: altUrl, open: () => createReadStream(join(dir, 'alt')) }
          : undefined;
        return await loader.load(source, main, alt, systemContext());
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
  return results;
}
