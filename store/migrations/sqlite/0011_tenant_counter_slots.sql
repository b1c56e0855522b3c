-- The dispatcher badge's counter, spread over a few slots per tenant (see
-- the PostgreSQL migration of the same number for why; SQLite has one
-- writer at a time, so it gains nothing here, but the statements are the
-- same on both). SQLite cannot change a primary key: the table is rebuilt.
CREATE TABLE tenant_counters_slots (
  tenant_id        TEXT NOT NULL,
  slot             INTEGER NOT NULL DEFAULT 0,
  customer_seq_sum INTEGER NOT NULL DEFAULT 0, -- sum(last_seq) of the tenant's non-archived customer threads, over its slots
  PRIMARY KEY (tenant_id, slot)
) WITHOUT ROWID;
INSERT INTO tenant_counters_slots (tenant_id, slot, customer_seq_sum)
SELECT tenant_id, 0, customer_seq_sum FROM tenant_counters;
DROP TABLE tenant_counters;
ALTER TABLE tenant_counters_slots RENAME TO tenant_counters;
