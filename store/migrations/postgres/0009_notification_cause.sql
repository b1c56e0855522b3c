-- The notification log keyed per message and recipient (PostgreSQL).
--
-- A new message is fanned out to its viewers by a job committed with the
-- message (see conversations.DeliverNotify); a repeat of that job (a retry,
-- a rescue after a crash, a second instance) must tell nobody twice. cause
-- is the message a notification reports, '' for those no message causes (a
-- read, a status change, an assignment); the log keeps at most one
-- notification per recipient and cause.

ALTER TABLE notifications ADD COLUMN cause text COLLATE "C" NOT NULL DEFAULT '';
CREATE UNIQUE INDEX notifications_cause ON notifications (tenant_id, staff_id, cause) WHERE cause <> '';
