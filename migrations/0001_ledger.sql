-- The double-entry ledger: accounts with four counters, and append-only transfers.
-- Ids are chosen by the caller (UUIDs): no sequences, so the schema stays portable to distributed engines.

CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  kind text NOT NULL CHECK (kind IN ('payer', 'payee', 'merchant', 'funding', 'platform')),
  owner_id text,
  debits_must_not_exceed_credits boolean NOT NULL DEFAULT false,
  credits_must_not_exceed_debits boolean NOT NULL DEFAULT false,
  debits_pending bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  created_at_ms bigint NOT NULL,
  -- The balance constraints, checked by the ledger under row locks and again here as the last line.
  CONSTRAINT accounts_debits_must_not_exceed_credits
    CHECK (NOT debits_must_not_exceed_credits OR debits_pending + debits_posted <= credits_posted),
  CONSTRAINT accounts_credits_must_not_exceed_debits
    CHECK (NOT credits_must_not_exceed_debits OR credits_pending + credits_posted <= debits_posted)
);
CREATE UNIQUE INDEX accounts_owner_currency ON accounts (kind, owner_id, currency) WHERE owner_id IS NOT NULL;

CREATE TABLE transfers (
  id uuid PRIMARY KEY,
  debit_account_id uuid NOT NULL REFERENCES accounts (id),
  credit_account_id uuid NOT NULL REFERENCES accounts (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL,
  kind text NOT NULL CHECK (kind IN ('single', 'pending', 'post', 'void', 'expire')),
  -- For post, void and expire: the pending transfer they resolve.
  pending_id uuid REFERENCES transfers (id),
  -- For pending: when the platform voids it if nobody resolved it.
  timeout_at_ms bigint,
  -- Opaque reference chosen by the caller, e.g. the payment a hold belongs to.
  reference text,
  created_at_ms bigint NOT NULL,
  CHECK (debit_account_id <> credit_account_id),
  CHECK ((kind IN ('post', 'void', 'expire')) = (pending_id IS NOT NULL)),
  CHECK ((kind = 'pending') = (timeout_at_ms IS NOT NULL))
);
-- A pending transfer is resolved at most once: the database refuses a second post, void or expire.
CREATE UNIQUE INDEX transfers_resolve_once ON transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX transfers_debit_account ON transfers (debit_account_id, created_at_ms);
CREATE INDEX transfers_credit_account ON transfers (credit_account_id, created_at_ms);

-- The open state of pending transfers: a working index over the append-only history, so that the
-- expiry sweeper and the ledger find open holds without scanning every transfer ever made.
CREATE TABLE pending_transfers (
  id uuid PRIMARY KEY REFERENCES transfers (id),
  status text NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
  timeout_at_ms bigint NOT NULL,
  resolved_by uuid REFERENCES transfers (id)
);
CREATE INDEX pending_transfers_open_timeout ON pending_transfers (timeout_at_ms) WHERE status = 'pending';

-- History is append-only: a mistake is corrected by a new transfer, never by rewriting an old one.
CREATE FUNCTION refuse_history_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'P0001';
END;
$$;
CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers
  FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
