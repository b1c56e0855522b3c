package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/store"
)

var _ conversations.Pacer = (*Outbox)(nil)

// SetPace sets how many messages a second the business's number (or
// sender address) may send; zero removes its pace. The rate lives in the
// database, beside the number's next send slot, so every host instance
// and every restart keeps to it.
func (o *Outbox) SetPace(ctx context.Context, tenant conversations.TenantID, sender string, perSecond float64) error {
	switch {
	case tenant == "" || sender == "":
		return conversations.Invalid("pace", "tenant and sender are required")
	case perSecond < 0 || perSecond > 1e6 || perSecond != perSecond:
		return conversations.Invalid("pace.per_second", "between 0 and 1,000,000")
	}
	if perSecond == 0 {
		_, err := o.db.SQL().ExecContext(ctx, o.sql(`DELETE FROM sender_pacing WHERE tenant_id = ? AND number = ?`), string(tenant), sender)
		return dbErr("set pace", err)
	}
	interval := max(int64(1e6/perSecond), 1)
	_, err := o.db.SQL().ExecContext(ctx, o.sql(`INSERT INTO sender_pacing (tenant_id, number, interval_us) VALUES (?, ?, ?)
ON CONFLICT (tenant_id, number) DO UPDATE SET interval_us = excluded.interval_us`), string(tenant), sender, interval)
	return dbErr("set pace", err)
}

// Take implements conversations.Pacer: a token bucket of one token, in
// the sender's sender_pacing row. A person-typed send moves the next slot
// on by one interval and waits for the slot it got; an automated send
// moves it only when it is open now, and otherwise is told to come back a
// little after it opens (spread over eight intervals, so that the waiting
// sends do not all come back at once). One statement either way.
func (o *Outbox) Take(ctx context.Context, tenant conversations.TenantID, sender string, automated bool) (time.Duration, error) {
	now := time.Now().UnixMicro()
	var next, interval int64
	var err error
	if automated {
		// Takes the slot when it is open, or reads when it opens.
		err = o.db.SQL().QueryRowContext(ctx, o.sql(`UPDATE sender_pacing
SET next_us = CASE WHEN next_us <= ? THEN ? + interval_us ELSE next_us END
WHERE tenant_id = ? AND number = ?
RETURNING next_us, interval_us`), now, now, string(tenant), sender).Scan(&next, &interval)
	} else {
		err = o.db.SQL().QueryRowContext(ctx, o.sql(`UPDATE sender_pacing
SET next_us = CASE WHEN next_us <= ? THEN ? ELSE next_us END + interval_us
WHERE tenant_id = ? AND number = ?
RETURNING next_us, interval_us`), now, now, string(tenant), sender).Scan(&next, &interval)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // not paced
	}
	if err != nil {
		return 0, dbErr("pace", err)
	}
	if automated {
		if next == now+interval {
			return 0, nil // the open slot was ours
		}
		return time.Duration(next-now+rand.Int64N(8*interval+1)) * time.Microsecond, nil
	}
	return time.Duration(next-interval-now) * time.Microsecond, nil
}

// sql writes PostgreSQL's placeholders for ?s on PostgreSQL.
func (o *Outbox) sql(q string) string {
	if o.db.Dialect() == store.DialectSQLite {
		return q
	}
	out := make([]byte, 0, len(q)+16)
	n := 0
	for i := range len(q) {
		if q[i] == '?' {
			n++
			out = fmt.Appendf(out, "$%d", n)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("outbox: %s: %w: %w", op, conversations.ErrUnavailable, err)
}
