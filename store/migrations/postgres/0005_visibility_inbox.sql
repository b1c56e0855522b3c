-- The technician inbox and badge from the visibility rows alone.
--
-- Each staff_thread_visibility row now carries what the inbox sorts and
-- filters by and what the badge sums: the thread's kind, archived flag,
-- last_message_at and last_seq, and the row's staff member's read horizon
-- in it (read_marks.read_seq, 0 when never read). A page is then a backwards
-- walk of staff_thread_visibility_inbox that stops after limit+1 entries,
-- and the badge a sum over the staff member's entries, both index-only;
-- neither grows with what the staff member sees beyond one page, nor
-- touches threads or read_marks outside the page's rows.
--
-- The price is a write per visibility row per message: AppendMessage moves
-- the thread's rows (typically 1-4) in the message's transaction. SetArchived,
-- MarkRead and every insert of a visibility row keep the copies in step in
-- their own transactions.
ALTER TABLE staff_thread_visibility
  ADD COLUMN kind            text NOT NULL DEFAULT '',
  ADD COLUMN archived        boolean NOT NULL DEFAULT false,
  ADD COLUMN last_message_at timestamptz NOT NULL DEFAULT '-infinity',
  ADD COLUMN last_seq        bigint NOT NULL DEFAULT 0,
  ADD COLUMN read_seq        bigint NOT NULL DEFAULT 0;

UPDATE staff_thread_visibility v
SET kind = t.kind, archived = t.archived, last_message_at = t.last_message_at, last_seq = t.last_seq,
    read_seq = coalesce((SELECT r.read_seq FROM read_marks r
                         WHERE r.tenant_id = v.tenant_id AND r.staff_id = v.staff_id AND r.thread_id = v.thread_id), 0)
FROM threads t
WHERE t.tenant_id = v.tenant_id AND t.id = v.thread_id;

-- The defaults were for the rows above only: every insert names the thread's values.
ALTER TABLE staff_thread_visibility
  ALTER COLUMN kind DROP DEFAULT,
  ALTER COLUMN last_message_at DROP DEFAULT;

-- The inbox (walked backwards, keyset in the index condition) and the badge
-- (summed), index-only: the filter's columns and the unread count's ride
-- along, and archived threads are not in it.
CREATE INDEX staff_thread_visibility_inbox ON staff_thread_visibility (tenant_id, staff_id, last_message_at, thread_id)
  INCLUDE (participant, job_refs, kind, last_seq, read_seq) WHERE NOT archived;
-- The primary key now leads with the thread: it is how every message, archive
-- and unlink finds the thread's rows, while a staff member's own rows are
-- walked on the index above. (A second index on (tenant_id, thread_id) beside
-- the old key would be one more entry to write per row per message.)
ALTER TABLE staff_thread_visibility
  DROP CONSTRAINT staff_thread_visibility_pkey,
  ADD PRIMARY KEY (tenant_id, thread_id, staff_id);
