-- Indexes for the web pages: the operator console browses payments and transfers newest first, and its
-- dashboard counts recent payments and current locks, without scanning history. (The delivery outbox
-- already has its index by creation time.)

CREATE INDEX payments_created ON payments (created_at_ms, id);
CREATE INDEX transfers_created ON transfers (created_at_ms, id);
CREATE INDEX authentication_failures_locked ON authentication_failures (locked_until_ms)
  WHERE locked_until_ms IS NOT NULL OR locked_permanently;
