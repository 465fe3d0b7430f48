-- Merchants: payees that integrate over the API. Their API keys (keyed hashes only), payment requests and the
-- hosted checkout's link to payments, refunds, and the webhook outbox (events, deliveries, every attempt).

CREATE TABLE merchants (
  id text PRIMARY KEY REFERENCES payees (id),
  webhook_url text CHECK (webhook_url IS NULL OR char_length(webhook_url) BETWEEN 1 AND 2048),
  -- The secret webhooks are signed with, sealed with AES-256-GCM: it must be read back in clear to sign.
  webhook_secret_sealed text NOT NULL,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL
);

CREATE TABLE merchant_api_keys (
  id uuid PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  -- The first characters of the key, enough to tell keys apart in a list and nothing more.
  prefix text NOT NULL CHECK (char_length(prefix) BETWEEN 1 AND 32),
  -- HMAC-SHA256 of the key under a key derived from the master key: the key itself is never stored.
  key_hash text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  status text NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at_ms bigint NOT NULL,
  -- A rotated key keeps working until then (a grace period), after which it is refused.
  expires_at_ms bigint,
  revoked_at_ms bigint,
  CHECK ((status = 'revoked') = (revoked_at_ms IS NOT NULL))
);
CREATE INDEX merchant_api_keys_merchant ON merchant_api_keys (merchant_id, created_at_ms);

CREATE TABLE payment_requests (
  id uuid PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reference text NOT NULL CHECK (char_length(reference) BETWEEN 1 AND 200),
  description text CHECK (description IS NULL OR char_length(description) BETWEEN 1 AND 500),
  return_url text CHECK (return_url IS NULL OR char_length(return_url) BETWEEN 1 AND 2048),
  status text NOT NULL CHECK (status IN ('open', 'paid', 'expired', 'canceled')),
  payment_id uuid REFERENCES payments (id),
  created_at_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  CHECK ((status = 'paid') = (payment_id IS NOT NULL))
);
CREATE INDEX payment_requests_merchant_created ON payment_requests (merchant_id, created_at_ms, id);
CREATE INDEX payment_requests_open_expiry ON payment_requests (expires_at_ms) WHERE status = 'open';

-- A payment made for a request names it; at most one of them ever succeeds, whatever the services do.
ALTER TABLE payments
  ADD CONSTRAINT payments_payment_request FOREIGN KEY (payment_request_id) REFERENCES payment_requests (id);
CREATE INDEX payments_payment_request ON payments (payment_request_id) WHERE payment_request_id IS NOT NULL;
CREATE UNIQUE INDEX payments_payment_request_paid_once ON payments (payment_request_id)
  WHERE status = 'succeeded' AND payment_request_id IS NOT NULL;

-- Refunds are history: the refund's id is the id of the ledger transfer that moved the money back.
CREATE TABLE refunds (
  id uuid PRIMARY KEY REFERENCES transfers (id),
  merchant_id text NOT NULL REFERENCES merchants (id),
  payment_id uuid NOT NULL REFERENCES payments (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded')),
  created_at_ms bigint NOT NULL
);
CREATE INDEX refunds_merchant_created ON refunds (merchant_id, created_at_ms, id);
CREATE INDEX refunds_payment ON refunds (payment_id);
CREATE TRIGGER refunds_append_only BEFORE UPDATE OR DELETE ON refunds
  FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();

-- The webhook outbox. An event row commits in the transaction of the change it reports; its body is the
-- exact JSON text that is delivered and signed, so every attempt and every replay sends the same bytes.
CREATE TABLE webhook_events (
  id uuid PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  type text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
  body text NOT NULL,
  created_at_ms bigint NOT NULL
);
CREATE INDEX webhook_events_merchant_created ON webhook_events (merchant_id, created_at_ms, id);
CREATE TRIGGER webhook_events_append_only BEFORE UPDATE OR DELETE ON webhook_events
  FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();

CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL REFERENCES webhook_events (id),
  merchant_id text NOT NULL REFERENCES merchants (id),
  url text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  -- Attempts claimed so far; a claim pushes next_attempt_at_ms past the attempt's timeout (a lease), so a
  -- process that dies mid-attempt leaves the delivery to be claimed again once the lease ends.
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at_ms bigint NOT NULL,
  -- No attempt starts after this (three days after the first by default); the delivery then fails.
  give_up_at_ms bigint NOT NULL,
  replay_of uuid REFERENCES webhook_deliveries (id),
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  completed_at_ms bigint,
  CHECK ((status = 'pending') = (completed_at_ms IS NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_merchant_created ON webhook_deliveries (merchant_id, created_at_ms, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id),
  attempt integer NOT NULL CHECK (attempt > 0),
  started_at_ms bigint NOT NULL,
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  response_status integer CHECK (response_status BETWEEN 100 AND 599),
  -- A short code of what went wrong (timeout, connection_failed, target_not_allowed, http_status), or null.
  error text CHECK (error IS NULL OR char_length(error) <= 64),
  response_excerpt text CHECK (response_excerpt IS NULL OR char_length(response_excerpt) <= 512),
  PRIMARY KEY (delivery_id, attempt)
);
CREATE TRIGGER webhook_attempts_append_only BEFORE UPDATE OR DELETE ON webhook_attempts
  FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
