/**
 * Announcements of new challenges over the database's notifications (NOTIFY / LISTEN), on PostgreSQL and on
 * PGlite alike; see `services/terminals/challenge-relay.ts` for why they carry payment ids only.
 */
import { limits } from '../domain/limits.js';
import type { Database, SqlExecutor } from '../services/database.js';
import type { ChallengeNotifications } from '../services/terminals/challenge-relay.js';

/** The notification channel; every server of one database listens on it. */
export const challengeChannel = 'countersign_challenges';

/** Payment ids joined by commas into payloads of at most `bytesMax` bytes each (ids are ASCII). */
export function challengePayloads(
  paymentIds: readonly string[],
  bytesMax: number = limits.challengeNotificationBytesMax,
): string[] {
  const payloads: string[] = [];
  let current = '';
  for (const id of paymentIds) {
    if (current !== '' && current.length + 1 + id.length > bytesMax) {
      payloads.push(current);
      current = '';
    }
    current = current === '' ? id : `${current},${id}`;
  }
  if (current !== '') payloads.push(current);
  return payloads;
}

/** The notifications of `database`; listening needs an engine that offers it. */
export function sqlChallengeNotifications(database: Database): ChallengeNotifications {
  return {
    async announceIn(tx: SqlExecutor, paymentIds: readonly string[]): Promise<void> {
      if (paymentIds.length === 0) return;
      // One statement for the whole batch; NOTIFY inside a transaction is sent only if it commits.
      await tx.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [
        challengeChannel,
        challengePayloads(paymentIds),
      ]);
    },
    async listen(onAnnounced, onListening) {
      if (database.listen === undefined) return undefined;
      return database.listen(
        challengeChannel,
        (payload) => onAnnounced(payload === '' ? [] : payload.split(',')),
        onListening,
      );
    },
  };
}
