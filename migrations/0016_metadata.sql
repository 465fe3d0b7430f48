-- Metadata of payments, payment requests and refunds (docs/api.md, "Metadata"): a caller's own key/value
-- strings, stored as the JSON text of an object of strings. Text rather than jsonb: the platform never
-- queries inside it, and text is the same on every PostgreSQL-compatible engine. A constant default adds
-- the column without rewriting the table; existing rows have no metadata.
ALTER TABLE payments ADD COLUMN metadata text NOT NULL DEFAULT '{}';
ALTER TABLE payment_requests ADD COLUMN metadata text NOT NULL DEFAULT '{}';
ALTER TABLE refunds ADD COLUMN metadata text NOT NULL DEFAULT '{}';
