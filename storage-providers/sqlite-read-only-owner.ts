import fs from 'node:fs';
import { ChatError } from '../actors/errors';

/**
 * Refuses a read-only open of a SQLite file that would leave files its server cannot open.
 *
 * A read-only connection to a WAL database needs the `-shm` file (and makes an empty `-wal`) and cannot remove them
 * at close. When no server has the file open they do not exist yet, so the reader creates them as its own user. Run
 * as a user other than the database's owner (not root: root's files are given the database file's owner), they stay
 * behind owned by that user, and the server's next start fails with "attempt to write a readonly database" until
 * someone removes them. A database a server has open already has its `-shm`, which SQLite reuses: nothing is created.
 * The readers are the replay CLI and `nlweb-chat migrate --check`, typically run by a person, not the server's user.
 *
 * `uid`: the reading process's user (process.getuid; undefined on Windows, where files have no such owner).
 */
export function assertReadOnlyOpenLeavesSqliteUsable(file: string, uid: number | undefined = process.getuid?.()): void {
  if (uid === undefined || uid === 0 || fs.existsSync(`${file}-shm`)) return;
  const owner = fs.statSync(file).uid;
  if (owner === uid) return;
  throw new ChatError(
    'CONFIG_ERR_INVALID',
    `sqlite database ${file} belongs to uid ${owner}, and this process runs as uid ${uid}: with no server holding it open, ` +
      `a read-only open would leave ${file}-shm and ${file}-wal owned by uid ${uid}, which a server of uid ${owner} then cannot open. ` +
      `Run as uid ${owner}, or read a copy (cp ${file} /tmp/copy.db).`,
  );
}
