-- Exports for the books read refunds by creation time across every merchant, a page at a time, keyed on
-- (created_at_ms, id): this index makes each page a range scan. Transfers and payments have theirs (0006).
CREATE INDEX refunds_created ON refunds (created_at_ms, id);
