-- Idempotency keys: one row per (caller scope, key), holding the request's hash and, once it completed,
-- the response to replay. Not ledger history: a key is deleted when released or after its retention.

CREATE TABLE idempotency_keys (
  -- SHA-256 of the caller's credentials (never the credentials themselves), or 'anonymous:' + route.
  scope text NOT NULL CHECK (char_length(scope) BETWEEN 1 AND 512),
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  -- SHA-256 (hex) of method, path and canonical body: the same key with another request is refused.
  request_hash text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
  status text NOT NULL CHECK (status IN ('in_progress', 'completed')),
  response_status int CHECK (response_status BETWEEN 100 AND 599),
  response_body text,
  created_at_ms bigint NOT NULL,
  -- While in progress: the end of the holder's lease; a retry after it may take the key over.
  locked_until_ms bigint,
  completed_at_ms bigint,
  PRIMARY KEY (scope, key),
  CHECK ((status = 'in_progress') = (locked_until_ms IS NOT NULL)),
  CHECK (
    (status = 'completed')
    = (response_status IS NOT NULL AND response_body IS NOT NULL AND completed_at_ms IS NOT NULL)
  )
);
-- The purge finds expired keys without scanning the live ones.
CREATE INDEX idempotency_keys_completed_at ON idempotency_keys (completed_at_ms) WHERE status = 'completed';
CREATE INDEX idempotency_keys_locked_until ON idempotency_keys (locked_until_ms) WHERE status = 'in_progress';
