import { PostgresStore } from '../../storage-providers/postgres-store';
import { runChatStoreContract } from '../../testing';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema } from './pg-helpers';

const reachable = pgReachableSync();

describeWithPg(reachable)('postgres', () => {
  test('PostgreSQL is reachable', () => {
    expect(reachable).toBe(true);
  });

  runChatStoreContract(
    'postgres',
    async () => {
      const schema = uniqueSchema();
      const make = () => new PostgresStore({ url: PG_URL, poolSize: 4, schema });
      return { store: make(), reopen: async () => make(), cleanup: () => dropSchema(schema) };
    },
    { supports: new PostgresStore({ url: PG_URL }).supports, omitInapplicable: true },
  );
});
