-- The method: payers with their secrets, payees, sessions, attempt counters and locks, payments with
-- their first and second codes (keyed hashes only), the delivery outbox, and the hash-chained audit log.

CREATE TABLE payers (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._@+-]{3,64}$'),
  password_hash text NOT NULL,
  -- The verification code, sealed with AES-256-GCM under the master key: needed in clear only to check
  -- embodiment 2 and to derive OCRA's PIN input.
  verification_code_sealed text NOT NULL,
  created_at_ms bigint NOT NULL
);

CREATE TABLE terminals (
  id uuid PRIMARY KEY,
  payer_id text NOT NULL REFERENCES payers (id),
  suite text NOT NULL,
  key_sealed text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'revoked')),
  label text,
  created_at_ms bigint NOT NULL,
  revoked_at_ms bigint
);
CREATE INDEX terminals_payer_active ON terminals (payer_id) WHERE status = 'active';

CREATE TABLE payees (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._@+-]{3,64}$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  kind text NOT NULL DEFAULT 'payee' CHECK (kind IN ('payee', 'merchant')),
  created_at_ms bigint NOT NULL
);

-- Consecutive failures and locks, keyed by the payer id as claimed: an id that does not exist is counted
-- and locked exactly like one that does, so neither answers nor locks reveal which ids exist.
CREATE TABLE authentication_failures (
  subject text PRIMARY KEY,
  consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  locked_until_ms bigint,
  temporary_locks integer NOT NULL DEFAULT 0 CHECK (temporary_locks >= 0),
  locked_permanently boolean NOT NULL DEFAULT false,
  updated_at_ms bigint NOT NULL
);

CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  payer_id text NOT NULL REFERENCES payers (id),
  created_at_ms bigint NOT NULL,
  last_used_at_ms bigint NOT NULL,
  revoked boolean NOT NULL DEFAULT false
);
CREATE INDEX sessions_payer ON sessions (payer_id);

CREATE TABLE payments (
  id uuid PRIMARY KEY,
  payer_id text NOT NULL REFERENCES payers (id),
  payee_id text NOT NULL REFERENCES payees (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL,
  status text NOT NULL CHECK (status IN ('requires_approval', 'succeeded', 'canceled', 'expired', 'failed')),
  deliver_to text NOT NULL CHECK (deliver_to IN ('first_terminal', 'second_terminal')),
  -- HMAC-SHA256 under a key derived from the master key, of the payer id and the first code.
  first_code_hash text NOT NULL,
  hold_transfer_id uuid NOT NULL REFERENCES transfers (id),
  failed_approvals integer NOT NULL DEFAULT 0 CHECK (failed_approvals >= 0),
  payment_request_id uuid,
  created_at_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL
);
-- A first code is unique among the payer's open payments.
CREATE UNIQUE INDEX payments_open_first_code ON payments (payer_id, first_code_hash)
  WHERE status = 'requires_approval';
CREATE INDEX payments_open_expiry ON payments (expires_at_ms) WHERE status = 'requires_approval';
CREATE INDEX payments_payer_created ON payments (payer_id, created_at_ms);
CREATE INDEX payments_payee_created ON payments (payee_id, created_at_ms);

-- The second codes that approve a payment (embodiment 1), one per terminal active when it was created,
-- as keyed hashes: the platform never needs the first code again after issuing it.
CREATE TABLE payment_second_codes (
  payment_id uuid NOT NULL REFERENCES payments (id),
  terminal_id uuid NOT NULL REFERENCES terminals (id),
  second_code_hash text NOT NULL,
  PRIMARY KEY (payment_id, terminal_id)
);

-- The transactional outbox of messages to payers' second terminals and other channels.
CREATE TABLE deliveries (
  id uuid PRIMARY KEY,
  payer_id text NOT NULL REFERENCES payers (id),
  payment_id uuid REFERENCES payments (id),
  channel text NOT NULL,
  payload_sealed text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at_ms bigint NOT NULL,
  last_error text,
  created_at_ms bigint NOT NULL,
  delivered_at_ms bigint
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX deliveries_payer ON deliveries (payer_id, created_at_ms);

-- The audit log of security events, each entry chained to the one before by a hash.
CREATE TABLE audit_log (
  position bigint PRIMARY KEY CHECK (position > 0),
  id uuid NOT NULL UNIQUE,
  event text NOT NULL,
  subject text,
  detail text NOT NULL,
  created_at_ms bigint NOT NULL,
  previous_hash text NOT NULL,
  hash text NOT NULL
);
-- The chain's head, one row: appending takes its lock, so positions stay gapless without a sequence.
CREATE TABLE audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (singleton, position, hash)
  VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
