-- The notification log keyed per message and recipient (SQLite). The same
-- column and index as the PostgreSQL schema; see there for why.

ALTER TABLE notifications ADD COLUMN cause TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX notifications_cause ON notifications (tenant_id, staff_id, cause) WHERE cause <> '';
