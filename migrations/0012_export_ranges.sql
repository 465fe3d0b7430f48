-- Exports for the books read transfers, payments and refunds by creation time across every party, a page
-- at a time, keyed on (created_at_ms, id): these indexes make each page a range scan, not a full scan.
CREATE INDEX transfers_created ON transfers (created_at_ms, id);
CREATE INDEX payments_created ON payments (created_at_ms, id);
CREATE INDEX refunds_created ON refunds (created_at_ms, id);
