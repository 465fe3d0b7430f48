-- Attempts reserved before they are evaluated, and locks that escalate instead of becoming permanent.
--
-- `reserved` counts evaluations of the payer's secrets in flight (valid until `reserved_until_ms`, a lease
-- that a crashed process cannot hold for ever); a reservation is refused while the failures counted plus
-- the evaluations in flight reach the limit. `consecutive_locks` (the former `temporary_locks`) counts the
-- locks since the last success: each doubles the next, up to a cap. `blocked` is the operator's block.
ALTER TABLE authentication_failures RENAME COLUMN temporary_locks TO consecutive_locks;
ALTER TABLE authentication_failures
  ADD COLUMN reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  ADD COLUMN reserved_until_ms bigint,
  ADD COLUMN blocked boolean NOT NULL DEFAULT false;

-- A permanent lock came from failures that anyone could cause: it becomes the longest temporary lock (24 h
-- from now), after which the payer may try again; none of them was an operator's block.
UPDATE authentication_failures
  SET locked_until_ms = (extract(epoch FROM now()) * 1000)::bigint + 86400000
  WHERE locked_permanently;

DROP INDEX authentication_failures_locked;
ALTER TABLE authentication_failures DROP COLUMN locked_permanently;
CREATE INDEX authentication_failures_locked ON authentication_failures (locked_until_ms)
  WHERE locked_until_ms IS NOT NULL OR blocked;
