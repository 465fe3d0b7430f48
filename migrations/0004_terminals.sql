-- Second terminals as a product: enrollments, the device credential of each terminal, the nonces of signed
-- terminal requests, the attempts of the delivery outbox, and the development outbox.

-- The device credential: the P-256 public key (SubjectPublicKeyInfo, DER, base64url) generated on the
-- terminal when it redeemed its enrollment. A terminal without one (a hardware token, or the payer's first
-- terminal before its enrollment is redeemed) computes codes but cannot sign requests.
ALTER TABLE terminals ADD COLUMN public_key text;
ALTER TABLE terminals ADD COLUMN enrolled_at_ms bigint;
ALTER TABLE terminals ADD COLUMN last_seen_at_ms bigint;
CREATE INDEX terminals_payer_created ON terminals (payer_id, created_at_ms);

-- An enrollment lets one device join a payer once, before it expires. It binds the device either to an
-- existing terminal (the payer's first one, whose key was issued with the payer) or to a new terminal
-- created when it is redeemed, with the key sealed here until then. The one-time secret is kept only as a
-- keyed hash; the URI (which carries the key and the secret) is sealed so that its QR code can be shown
-- again while the enrollment is open, and both sealed values are wiped as soon as it is not.
CREATE TABLE enrollments (
  id uuid PRIMARY KEY,
  payer_id text NOT NULL REFERENCES payers (id),
  terminal_id uuid REFERENCES terminals (id),
  suite text NOT NULL,
  label text CHECK (label IS NULL OR char_length(label) BETWEEN 1 AND 64),
  secret_hash text NOT NULL,
  key_sealed text,
  uri_sealed text,
  status text NOT NULL CHECK (status IN ('open', 'redeemed', 'expired', 'canceled')),
  failed_confirmations integer NOT NULL DEFAULT 0 CHECK (failed_confirmations >= 0),
  created_at_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  redeemed_at_ms bigint,
  CHECK (status = 'open' OR (key_sealed IS NULL AND uri_sealed IS NULL)),
  CHECK (terminal_id IS NOT NULL OR status <> 'redeemed')
);
CREATE INDEX enrollments_payer_open ON enrollments (payer_id) WHERE status = 'open';
CREATE INDEX enrollments_open_expiry ON enrollments (expires_at_ms) WHERE status = 'open';

-- Nonces of signed terminal requests, kept while their timestamp is inside the accepted window, so that
-- a request replayed within the window is refused. `key_id` is a terminal id or `enrollment:<id>`.
CREATE TABLE terminal_request_nonces (
  key_id text NOT NULL,
  nonce text NOT NULL,
  expires_at_ms bigint NOT NULL,
  PRIMARY KEY (key_id, nonce)
);
CREATE INDEX terminal_request_nonces_expiry ON terminal_request_nonces (expires_at_ms);

-- A message whose payment was no longer open when its first attempt came is `skipped`, not sent.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
  CHECK (status IN ('pending', 'delivered', 'failed', 'skipped'));
CREATE INDEX deliveries_payment ON deliveries (payment_id);
CREATE INDEX deliveries_created ON deliveries (created_at_ms, id);

-- Every attempt of every channel of a delivery, for the operator and for retries: a channel that already
-- accepted a message is not sent it again when another channel of the same message is retried.
CREATE TABLE delivery_attempts (
  id uuid PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES deliveries (id),
  attempt integer NOT NULL CHECK (attempt > 0),
  channel text NOT NULL,
  succeeded boolean NOT NULL,
  error text,
  created_at_ms bigint NOT NULL
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, created_at_ms);

-- The development outbox: with DEVELOPMENT_OUTBOX=true every second-terminal message is also kept here,
-- sealed, for the operator to read (first code included) without a phone; purged after a day.
CREATE TABLE development_outbox (
  delivery_id uuid PRIMARY KEY REFERENCES deliveries (id),
  payer_id text NOT NULL REFERENCES payers (id),
  message_sealed text NOT NULL,
  created_at_ms bigint NOT NULL
);
CREATE INDEX development_outbox_created ON development_outbox (created_at_ms);
