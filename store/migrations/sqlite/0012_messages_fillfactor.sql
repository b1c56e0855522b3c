-- PostgreSQL leaves room on the messages table's pages for HOT status
-- updates (its 0012); SQLite has no such setting. Kept so that both
-- dialects number their migrations alike.
SELECT 1;
