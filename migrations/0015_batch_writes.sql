-- Writes the hot path paid for and no rule needed: per-row reference lookups of the ledger, an unused index.
--
-- 1. The ledger's references checked once per batch, not once per row.
--
-- A foreign key is checked by a trigger that runs one lookup per inserted row: a batch of 1,000 transfers
-- ran about 2,300 of them (two accounts each, plus the hold each resolution names) and 1,300 more for its
-- pending rows, three quarters of the batch's INSERT time. The ledger already proves every one of those
-- references before it writes: a batch reads and locks the accounts and holds it names, in the same
-- transaction, and refuses a transfer whose account or hold is missing (`debit_account_not_found`,
-- `pending_transfer_not_found`); a pending row and its resolution are written from the transfers the same
-- batch inserts. What the keys added beyond that was a guard against the referenced rows disappearing
-- later, and that guard stays: transfers already refuse UPDATE and DELETE, and accounts now refuse DELETE.
-- `ledger verify` checks every reference (see docs/ledger.md).
ALTER TABLE transfers DROP CONSTRAINT transfers_debit_account_id_fkey;
ALTER TABLE transfers DROP CONSTRAINT transfers_credit_account_id_fkey;
ALTER TABLE transfers DROP CONSTRAINT transfers_pending_id_fkey;
ALTER TABLE pending_transfers DROP CONSTRAINT pending_transfers_id_fkey;
ALTER TABLE pending_transfers DROP CONSTRAINT pending_transfers_resolved_by_fkey;

-- An account is never deleted: its history refers to it. A statement-level trigger costs nothing per row.
CREATE FUNCTION refuse_account_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'accounts are never deleted: transfers refer to them' USING ERRCODE = 'P0001';
END;
$$;
CREATE TRIGGER accounts_never_deleted BEFORE DELETE OR TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_account_delete();

-- 2. No query reads the audit log by id (entries are read by position, the chain's order): the unique index
-- on a random id cost one write at a random place of a B-tree for every entry, about four and a half per
-- payment. The id stays in every entry and in its hash.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_id_key;
