-- A key's completion written in place (a HOT update) instead of as a new row version with new index entries.
--
-- Every keyed request writes its key twice: the claim inserts the row, the completion stores the answer.
-- The completion changed `status`, `completed_at_ms` and `locked_until_ms`, which the purge's two partial
-- indexes are built on (as column or as predicate), so PostgreSQL could not update the row in place: each
-- completion wrote a new heap tuple on another page plus an entry in the primary key and in both partial
-- indexes (measured: `idempotency_keys` ~1.03 updates per payment, 0 of them HOT).
--
-- The purge now finds its candidates through `created_at_ms`, which the completion does not change. It
-- deletes exactly what it deleted before: a key's claim (or takeover) sets `created_at_ms` to the time it
-- was taken and its lease or completion time is never earlier, so every key the old predicate selects is
-- also older than the cutoff by `created_at_ms`; the old predicate still decides (docs/api.md: an answer
-- stays at least 24 hours after it completed).
DROP INDEX idempotency_keys_completed_at;
DROP INDEX idempotency_keys_locked_until;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at_ms);

-- A HOT update needs room on the row's own page: the sealed answer, about three times the size of the
-- claimed row, is written into a row inserted moments before, on the page new rows fill. New rows fill a
-- page to 30 %, so that the completions of the rows on it fit beside them (measured: 0.56 of the
-- completions in place at 80 %, 0.69 at 50 %, 0.92 at 30 %; docs/performance.md). Once its keys complete,
-- a page is as full as before: the room is taken by the answers it was left for.
ALTER TABLE idempotency_keys SET (fillfactor = 30);
