-- Per-sender pacing: how fast one business number may send, and when its
-- next send slot opens. A row exists only for a paced number; the outbox
-- (store/outbox Pace) takes slots with one statement per delivery. Times
-- are microseconds since the Unix epoch, the same on both databases.
CREATE TABLE sender_pacing (
  tenant_id   text NOT NULL,
  number      text NOT NULL,
  interval_us bigint NOT NULL CHECK (interval_us > 0),
  next_us     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, number)
);
