-- The technician inbox and badge from the visibility rows alone (see the
-- PostgreSQL migration of the same number): each row carries its thread's
-- kind, archived flag, last_message_at and last_seq, and its staff member's
-- read horizon in the thread, kept in step by AppendMessage, SetArchived,
-- MarkRead and every insert of a visibility row.
ALTER TABLE staff_thread_visibility ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE staff_thread_visibility ADD COLUMN archived BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE staff_thread_visibility ADD COLUMN last_message_at TIMESTAMP NOT NULL DEFAULT '';
ALTER TABLE staff_thread_visibility ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff_thread_visibility ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;

UPDATE staff_thread_visibility
SET kind = t.kind, archived = t.archived, last_message_at = t.last_message_at, last_seq = t.last_seq,
    read_seq = coalesce((SELECT r.read_seq FROM read_marks r
                         WHERE r.tenant_id = staff_thread_visibility.tenant_id
                           AND r.staff_id = staff_thread_visibility.staff_id
                           AND r.thread_id = staff_thread_visibility.thread_id), 0)
FROM threads t
WHERE t.tenant_id = staff_thread_visibility.tenant_id AND t.id = staff_thread_visibility.thread_id;

-- The inbox, walked backwards (SQLite has no INCLUDE: each entry found
-- reads its row by primary key; the partial index still skips archived
-- threads).
CREATE INDEX staff_thread_visibility_inbox ON staff_thread_visibility (tenant_id, staff_id, last_message_at, thread_id) WHERE NOT archived;
-- From a thread to its rows, for the per-message, archive and unlink updates.
CREATE INDEX staff_thread_visibility_thread ON staff_thread_visibility (tenant_id, thread_id);
