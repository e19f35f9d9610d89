/**
 * Whether another process has an embedded store's SQLite file open, e.g. a running server.
 * A connection in exclusive locking mode cannot read a WAL database while any other
 * connection has it open (each holds a shared lock for as long as it is open), so one read
 * without waiting tells; the probe closes at once and leaves the file as it was.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Config } from '../config';

export function sqliteFileInUse(path: string): boolean {
  if (!fs.existsSync(path)) return false;
  const probe = new Database(path, { fileMustExist: true, timeout: 0 });
  try {
    probe.pragma('locking_mode = EXCLUSIVE');
    probe.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return true;
    throw error;
  } finally {
    probe.close();
  }
}

/** The configured embedded store files that another process has open. */
export function embeddedStoresInUse(config: Pick<Config, 'eventStore' | 'readStore'>): string[] {
  const files = [
    ...(config.eventStore.kind === 'sqlite' ? [config.eventStore.path] : []),
    ...(config.readStore.kind === 'embedded' ? [config.readStore.path] : []),
  ];
  return files.filter(sqliteFileInUse);
}
