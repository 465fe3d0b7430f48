-- Keys of the platform kept in the database, each sealed under the master key. Today one: the key of the
-- keyed hashes (first and second codes, session tokens, API keys). Kept here, and not derived from the
-- current master key, so that rotating the master key re-encrypts this row instead of invalidating every
-- stored hash.

CREATE TABLE platform_keys (
  name text PRIMARY KEY CHECK (name ~ '^[a-z_]{1,64}$'),
  -- AES-256-GCM under the master key, bound to 'platform_key:<name>'.
  key_sealed text NOT NULL,
  created_at_ms bigint NOT NULL
);
