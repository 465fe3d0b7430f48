-- Operators as named people: an account per person with a role, an Argon2id password and a TOTP key
-- (sealed under the master key), set up once with a one-time set-up code; console sessions as rows, so that
-- signing out, the idle timeout, the absolute lifetime and an admin's "end sessions" end them server-side.
--
-- Failed sign-ins are counted in authentication_failures under the subject `operator:<name>` (a colon is
-- never part of a payer id), by the same reservation rules as payers' passwords.

CREATE TABLE operators (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9._-]{1,63}$'),
  role text NOT NULL CHECK (role IN ('viewer', 'support', 'admin')),
  -- Null until the operator completes the set-up.
  password_hash text,
  totp_key_sealed text,
  -- The last TOTP time step accepted: a code at or before it is never accepted again (RFC 6238 §5.2).
  totp_last_step bigint NOT NULL DEFAULT 0,
  -- Keyed hash of the one-time set-up code; null once used or replaced.
  setup_code_hash text,
  setup_expires_at_ms bigint,
  created_at_ms bigint NOT NULL,
  created_by text NOT NULL,
  disabled_at_ms bigint,
  CHECK ((password_hash IS NULL) = (totp_key_sealed IS NULL))
);

CREATE TABLE operator_sessions (
  -- Keyed hash of the cookie's token: the token itself is never stored.
  token_hash text PRIMARY KEY,
  id text NOT NULL UNIQUE,
  operator_id text NOT NULL REFERENCES operators (id),
  created_at_ms bigint NOT NULL,
  last_used_at_ms bigint NOT NULL,
  ended_at_ms bigint,
  end_reason text CHECK (end_reason IN ('signed_out', 'ended_by_admin', 'disabled'))
);

CREATE INDEX operator_sessions_open ON operator_sessions (operator_id) WHERE ended_at_ms IS NULL;
