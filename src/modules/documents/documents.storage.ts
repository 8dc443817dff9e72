/** Where encrypted document bytes live. The local directory is the default backend; others implement the port. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DocumentStorage {
  put(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  delete(key: string): Promise<void>;
}

const KEY_PATTERN = /^[0-9a-f-]{36}$/;

export class LocalDirectoryStorage implements DocumentStorage {
  readonly #directory: string;

  constructor(directory: string) {
    this.#directory = directory;
  }

  #path(key: string): string {
    // Keys are server-made UUIDs: nothing a client sends ever becomes part of a path.
    if (!KEY_PATTERN.test(key)) throw new Error('invalid storage key');
    // UUIDv7 starts with a timestamp; its random tail spreads files over 256 directories.
    return join(this.#directory, key.slice(-2), `${key}.bin`);
  }

  async put(key: string, data: Buffer): Promise<void> {
    const path = this.#path(key);
    await mkdir(join(this.#directory, key.slice(-2)), { recursive: true });
    await writeFile(path, data, { mode: 0o600 });
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.#path(key));
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}

/** DATA_DIR/documents, or a per-process temporary directory when the database itself is in memory. */
export function documentDirectory(dataDir: string): string {
  return dataDir === ':memory:'
    ? join(tmpdir(), `codeforge-documents-${process.pid}`)
    : join(dataDir, 'documents');
}
