/** What the ready line says about where conversations are kept (bin/storage-location.ts; the line itself: test/process/ready-line.test.ts). */
import { storageLocation, MEMORY_LOCATION, withoutUrlPasswords } from '../../bin/storage-location';
import { loadConfig } from '../../config';

const storageOf = (storage: object) => loadConfig({ overrides: { chat: { storage } } }).chat.storage;

describe('storageLocation', () => {
  it('memory: says a restart loses everything; sqlite: the file, resolved against the working directory', () => {
    expect(storageLocation(storageOf({}), '/srv/chat')).toBe(MEMORY_LOCATION);
    expect(storageLocation(storageOf({ backend: 'sqlite' }), '/srv/chat')).toBe('/srv/chat/data/nlweb-chat.db');
    expect(storageLocation(storageOf({ backend: 'sqlite', sqlite: { path: '/var/lib/chat.db' } }), '/srv/chat')).toBe('/var/lib/chat.db');
  });

  it('postgres: the schema and the URL without its password, in the user part or as a parameter', () => {
    const pg = (url: string): string => storageLocation(storageOf({ backend: 'postgres', postgres: { url } }), '/');
    expect(pg('postgres://chat:s3cret@db.internal:5432/chat')).toBe('schema public at postgres://chat:***@db.internal:5432/chat');
    expect(pg('postgres://chat@db.internal/chat?password=s3cret&sslmode=require')).toBe(
      'schema public at postgres://chat@db.internal/chat?password=***&sslmode=require',
    );
    expect(pg('postgres://127.0.0.1:5432/test')).toBe('schema public at postgres://127.0.0.1:5432/test');
  });

  it('redis: the key prefix and the URL without a password in the user part or in any *password parameter ioredis takes', () => {
    const redis = (url: string): string => storageLocation(storageOf({ backend: 'redis', redis: { url } }), '/');
    expect(redis('redis://:s3cret@cache:6379/0')).toBe('key prefix nlweb-chat: at redis://:***@cache:6379/0');
    expect(redis('redis://cache:6379/0?password=s3cret&sentinelPassword=other&family=6')).toBe(
      'key prefix nlweb-chat: at redis://cache:6379/0?password=***&sentinelPassword=***&family=6',
    );
  });

  it('postgres: names the configured schema, which the URL does not show (two deployments on one database differ only there)', () => {
    const storage = storageOf({ backend: 'postgres', postgres: { url: 'postgres://chat@db/chat', schema: 'tenant_b' } });
    expect(storageLocation(storage, '/')).toBe('schema tenant_b at postgres://chat@db/chat');
  });
});

describe('withoutUrlPasswords (what the migrate command and the replay CLI print of an error)', () => {
  it('hides the password of every URL the text quotes, one with a space in it too, and leaves URLs without one', () => {
    expect(withoutUrlPasswords('from postgres://a:s3cret@h1/db to postgresql://b:other@h2/db')).toBe(
      'from postgres://a:***@h1/db to postgresql://b:***@h2/db',
    );
    expect(withoutUrlPasswords('not a valid PostgreSQL URL: postgres://chat:two words@db:x/chat')).toBe(
      'not a valid PostgreSQL URL: postgres://chat:***@db:x/chat',
    );
    // Redis URLs usually carry a password without a user name.
    expect(withoutUrlPasswords('cannot reach redis://:s3cret@cache:6379/0')).toBe('cannot reach redis://:***@cache:6379/0');
    expect(withoutUrlPasswords('connect ECONNREFUSED 127.0.0.1:5432 (postgres://db.internal:5432/chat)')).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432 (postgres://db.internal:5432/chat)',
    );
  });
});
