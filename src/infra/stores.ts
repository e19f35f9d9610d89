/** Opens the adapters the configuration names: the only place that knows which run. */
import fs from 'node:fs';
import path from 'node:path';
import type { ReadStore } from '../projections/read-store';
import type { Config } from './config';
import { EsdbEventStore } from './event-store/esdb-event-store';
import type { EventStore } from './event-store/event-store';
import { SqliteEventStore } from './event-store/sqlite-event-store';
import { EmbeddedReadStore } from './read-store/embedded-read-store';
import { MongoReadStore } from './read-store/mongo-read-store';

export async function openEventStore(config: Config['eventStore']): Promise<EventStore> {
  switch (config.kind) {
    case 'sqlite':
      fs.mkdirSync(path.dirname(config.path), { recursive: true });
      return SqliteEventStore.open({ path: config.path });
    case 'esdb':
      return EsdbEventStore.connect({ connectionString: config.connectionString });
  }
}

export async function openReadStore(config: Config['readStore']): Promise<ReadStore> {
  switch (config.kind) {
    case 'embedded':
      fs.mkdirSync(path.dirname(config.path), { recursive: true });
      return EmbeddedReadStore.open({ path: config.path });
    case 'mongo':
      return MongoReadStore.connect({ url: config.url, database: config.database });
  }
}
