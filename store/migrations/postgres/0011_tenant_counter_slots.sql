-- The dispatcher badge's counter, spread: every customer message of a
-- business moved its one tenant_counters row, so a busy business's inbound
-- messages queued on that row's lock, each until the one before committed
-- (measured: with synchronous commits, 16 concurrent webhooks into one
-- business spent most of the inbound statement's time waiting on
-- Lock:transactionid; without the update, none). A message now moves one of
-- a few slots, drawn at random (store.counterSlots), and the badge sums the
-- tenant's slots: a handful of rows read through the primary key.
ALTER TABLE tenant_counters ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE tenant_counters DROP CONSTRAINT tenant_counters_pkey;
ALTER TABLE tenant_counters ADD PRIMARY KEY (tenant_id, slot);
