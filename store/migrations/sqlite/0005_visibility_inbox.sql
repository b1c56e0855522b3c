-- The technician inbox and badge from the visibility rows alone (see the
-- PostgreSQL migration of the same number): each row carries its thread's
-- kind, archived flag, last_message_at and last_seq, and its staff member's
-- read horizon in the thread, kept in step by AppendMessage, SetArchived,
-- MarkRead and every insert of a visibility row.
--
-- The table is rebuilt, filled from the old one with those copies: its
-- primary key now leads with the thread, which is how every message,
-- archive and unlink finds the thread's rows; a staff member's own rows are
-- walked on staff_thread_visibility_inbox.
CREATE TABLE staff_thread_visibility_0005 (
  tenant_id       TEXT NOT NULL,
  staff_id        TEXT NOT NULL,
  thread_id       TEXT NOT NULL,
  participant     BOOLEAN NOT NULL DEFAULT false,
  job_refs        INTEGER NOT NULL DEFAULT 0 CHECK (job_refs >= 0),
  kind            TEXT NOT NULL,
  archived        BOOLEAN NOT NULL DEFAULT false,
  last_message_at TIMESTAMP NOT NULL,
  last_seq        INTEGER NOT NULL DEFAULT 0,
  read_seq        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, thread_id, staff_id),
  FOREIGN KEY (tenant_id, thread_id) REFERENCES threads (tenant_id, id)
) WITHOUT ROWID;

INSERT INTO staff_thread_visibility_0005 (tenant_id, staff_id, thread_id, participant, job_refs,
  kind, archived, last_message_at, last_seq, read_seq)
SELECT v.tenant_id, v.staff_id, v.thread_id, v.participant, v.job_refs,
  t.kind, t.archived, t.last_message_at, t.last_seq, coalesce(r.read_seq, 0)
FROM staff_thread_visibility v
JOIN threads t ON t.tenant_id = v.tenant_id AND t.id = v.thread_id
LEFT JOIN read_marks r ON r.tenant_id = v.tenant_id AND r.staff_id = v.staff_id AND r.thread_id = v.thread_id;

DROP TABLE staff_thread_visibility;
ALTER TABLE staff_thread_visibility_0005 RENAME TO staff_thread_visibility;

-- The inbox, walked backwards, and the badge, summed. SQLite has no
-- INCLUDE: the columns the walk filters on and the badge sums follow the key
-- instead, archived too (always false here, but SQLite must see the index
-- covers the query's NOT archived), so that the index covers both; without
-- that, SQLite, which plans without statistics, sums the badge over a scan
-- of the business's rows by primary key. The partial index skips archived
-- threads.
CREATE INDEX staff_thread_visibility_inbox ON staff_thread_visibility
  (tenant_id, staff_id, last_message_at, thread_id, participant, job_refs, kind, last_seq, read_seq, archived) WHERE NOT archived;
