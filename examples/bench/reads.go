package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The baseline: what an experienced PostgreSQL engineer would write by hand
// for the same rows, on the same schema and indexes (the best shapes of the
// measurements the schema was designed from, on fieldtalk's tables). Each returns what the Service returns
// (every thread column and the viewer's unread count; every message column),
// scanned into Go values, and asks for one row more than the page, as the
// store does to know whether another page follows.

const threadSelect = `t.id, t.kind, t.business_number, t.contact_phone, t.contact_email, t.contact_name,
  t.contact_ref, t.subject, t.created_at, t.created_by, t.last_message_at, t.last_seq, t.preview, t.archived`

const pageSelect = `p.id, p.kind, p.business_number, p.contact_phone, p.contact_email, p.contact_name,
  p.contact_ref, p.subject, p.created_at, p.created_by, p.last_message_at, p.last_seq, p.preview, p.archived,
  p.last_seq - coalesce((SELECT r.read_seq FROM read_marks r
                         WHERE r.tenant_id = $1 AND r.staff_id = $2 AND r.thread_id = p.id), 0)`

// A technician's page: a backwards walk of their visibility rows on the
// visibility inbox index (tenant_id, staff_id, last_message_at, thread_id)
// INCLUDE (participant, job_refs, kind, last_seq, read_seq) WHERE NOT
// archived, filtered and stopped at 51 inside the index, unread from the
// row itself; then the 51 threads by primary key for what the page shows.
const baseTechInbox = `WITH v AS (
  SELECT v.thread_id, v.last_message_at, v.last_seq - v.read_seq AS unread
  FROM staff_thread_visibility v
  WHERE v.tenant_id = $1 AND v.staff_id = $2 AND NOT v.archived
    AND (v.participant OR (v.job_refs > 0 AND v.kind = 'customer'))%s
  ORDER BY v.last_message_at DESC, v.thread_id DESC
  LIMIT 51)
SELECT ` + threadSelect + `, v.unread
FROM v JOIN threads t ON t.tenant_id = $1 AND t.id = v.thread_id
ORDER BY v.last_message_at DESC, v.thread_id DESC`

const keyset = `
    AND (v.last_message_at, v.thread_id) < ($3, $4)`

// A dispatcher's page: the tenant's customer threads straight off the inbox
// index (stops after 51), merged with the internal threads they take part in
// (a walk of their visibility rows, as for a technician).
const baseDispatcherInbox = `WITH p AS (
  SELECT * FROM (
    (SELECT ` + threadSelect + `
     FROM threads t
     WHERE t.tenant_id = $1 AND NOT t.archived AND t.kind = 'customer'
     ORDER BY t.last_message_at DESC, t.id DESC
     LIMIT 51)
    UNION ALL
    (SELECT ` + threadSelect + `
     FROM (SELECT v.thread_id FROM staff_thread_visibility v
           WHERE v.tenant_id = $1 AND v.staff_id = $2 AND NOT v.archived AND v.participant AND v.kind = 'internal'
           ORDER BY v.last_message_at DESC, v.thread_id DESC
           LIMIT 51) v
     JOIN threads t ON t.tenant_id = $1 AND t.id = v.thread_id)
  ) u
  ORDER BY last_message_at DESC, id DESC
  LIMIT 51)
SELECT ` + pageSelect + `
FROM p ORDER BY p.last_message_at DESC, p.id DESC`

// A technician's badge: the sum of their visibility rows' own unread
// counts, index-only on the visibility inbox index.
const baseTechBadge = `SELECT coalesce(sum(v.last_seq - v.read_seq), 0)::bigint
FROM staff_thread_visibility v
WHERE v.tenant_id = $1 AND v.staff_id = $2 AND NOT v.archived
  AND (v.participant OR (v.job_refs > 0 AND v.kind = 'customer'))`

// A dispatcher's badge: the two counters (the tenant's over its slots), plus the internal threads they
// take part in.
const baseDispatcherBadge = `SELECT (coalesce((SELECT sum(c.customer_seq_sum) FROM tenant_counters c WHERE c.tenant_id = $1), 0)
  - coalesce((SELECT c.customer_read_sum FROM staff_read_counters c WHERE c.tenant_id = $1 AND c.staff_id = $2), 0)
  + coalesce((SELECT sum(v.last_seq - v.read_seq)
              FROM staff_thread_visibility v
              WHERE v.tenant_id = $1 AND v.staff_id = $2 AND NOT v.archived AND v.participant AND v.kind = 'internal'), 0))::bigint`

const messageSelect = `m.id, m.thread_id, m.seq, m.kind, m.direction, m.channel, m.author_type, m.author_id,
  m.body, m.subject, m.media, m.job_id, m.source, m.client_id, m.from_address, m.to_address,
  m.created_at, m.status, m.sent_at, m.delivered_at, m.failed_at, m.provider_id, m.error_code, m.error_reason`

// The newest page of a thread, backwards on the primary key.
const baseHistory = `SELECT ` + messageSelect + `
FROM messages m WHERE m.tenant_id = $1 AND m.thread_id = $2
ORDER BY m.seq DESC LIMIT 50`

// The same page, returned only when the viewer (a technician) may see the
// thread: the access check folded into the one statement.
const baseHistoryChecked = `SELECT ` + messageSelect + `
FROM messages m
WHERE m.tenant_id = $1 AND m.thread_id = $2
  AND EXISTS (SELECT 1 FROM staff_thread_visibility v
              WHERE v.tenant_id = $1 AND v.staff_id = $3 AND v.thread_id = $2
                AND (v.participant OR (v.job_refs > 0 AND v.kind = 'customer')))
ORDER BY m.seq DESC LIMIT 50`

// threadRow is what the baseline scans a thread row into.
type threadRow struct {
	id, kind, number, phone, email, name, ref, subject, createdBy, preview string
	createdAt, lastAt                                                      time.Time
	lastSeq, unread                                                        int64
	archived                                                               bool
}

func (e *env) baseInbox(ctx context.Context, query string, args ...any) ([]threadRow, error) {
	rows, err := e.base.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []threadRow
	for rows.Next() {
		var r threadRow
		if err := rows.Scan(&r.id, &r.kind, &r.number, &r.phone, &r.email, &r.name, &r.ref, &r.subject,
			&r.createdAt, &r.createdBy, &r.lastAt, &r.lastSeq, &r.preview, &r.archived, &r.unread); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (e *env) baseTechPage(ctx context.Context, v conversations.Viewer, after *threadRow) ([]threadRow, error) {
	if after == nil {
		return e.baseInbox(ctx, fmt.Sprintf(baseTechInbox, ""), string(v.Tenant), string(v.Staff))
	}
	return e.baseInbox(ctx, fmt.Sprintf(baseTechInbox, keyset), string(v.Tenant), string(v.Staff), after.lastAt, after.id)
}

func (e *env) baseCount(ctx context.Context, query string, v conversations.Viewer) (int64, error) {
	var n int64
	err := e.base.QueryRow(ctx, query, string(v.Tenant), string(v.Staff)).Scan(&n)
	return n, err
}

type messageRow struct {
	id, thread, kind, dir, channel, authorType, author, body, subject, media, job, source, client, from, to string
	status, provider, code, reason                                                                          string
	seq                                                                                                     int64
	createdAt                                                                                               time.Time
	sentAt, deliveredAt, failedAt                                                                           *time.Time
}

func (e *env) baseHistory(ctx context.Context, query string, args ...any) ([]messageRow, error) {
	rows, err := e.base.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []messageRow
	for rows.Next() {
		var m messageRow
		if err := rows.Scan(&m.id, &m.thread, &m.seq, &m.kind, &m.dir, &m.channel, &m.authorType, &m.author,
			&m.body, &m.subject, &m.media, &m.job, &m.source, &m.client, &m.from, &m.to,
			&m.createdAt, &m.status, &m.sentAt, &m.deliveredAt, &m.failedAt, &m.provider, &m.code, &m.reason); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// checkReads checks, for random viewers, that the Service's inbox pages
// and badges are exactly the baseline's: the comparison is only fair if
// both sides return the same rows.
func (e *env) checkReads(ctx context.Context, log io.Writer) error {
	checked := 0
	for i, v := range e.technicians {
		if i == 20 {
			break
		}
		var after *threadRow
		var cursor string
		for page := 1; page <= 3; page++ {
			got, err := e.svc.Inbox(ctx, v.Viewer, conversations.InboxQuery{Limit: 50, After: cursor})
			if err != nil {
				return fmt.Errorf("check: inbox: %w", err)
			}
			want, err := e.baseTechPage(ctx, v.Viewer, after)
			if err != nil {
				return fmt.Errorf("check: baseline inbox: %w", err)
			}
			if err := samePage(got, want); err != nil {
				return fmt.Errorf("check: technician %s page %d: %w", v.Staff, page, err)
			}
			checked++
			if got.NextCursor == "" {
				break
			}
			cursor, after = got.NextCursor, &want[49]
		}
		if err := e.sameBadge(ctx, v.Viewer, baseTechBadge); err != nil {
			return err
		}
	}
	for i, v := range e.dispatchers {
		if i == 20 {
			break
		}
		got, err := e.svc.Inbox(ctx, v.Viewer, conversations.InboxQuery{Limit: 50})
		if err != nil {
			return fmt.Errorf("check: inbox: %w", err)
		}
		want, err := e.baseInbox(ctx, baseDispatcherInbox, string(v.Tenant), string(v.Staff))
		if err != nil {
			return fmt.Errorf("check: baseline inbox: %w", err)
		}
		if err := samePage(got, want); err != nil {
			return fmt.Errorf("check: dispatcher %s: %w", v.Staff, err)
		}
		checked++
		if err := e.sameBadge(ctx, v.Viewer, baseDispatcherBadge); err != nil {
			return err
		}
	}
	for i, h := range e.histories {
		if i == 20 {
			break
		}
		got, err := e.svc.History(ctx, h.v, h.thread, conversations.HistoryQuery{Limit: 50})
		if err != nil {
			return fmt.Errorf("check: history: %w", err)
		}
		want, err := e.baseHistory(ctx, baseHistoryChecked, string(h.v.Tenant), string(h.thread), string(h.v.Staff))
		if err != nil {
			return fmt.Errorf("check: baseline history: %w", err)
		}
		if len(got.Messages) != len(want) || len(want) == 0 {
			return fmt.Errorf("check: history of %s: %d messages, baseline %d", h.thread, len(got.Messages), len(want))
		}
		for j, m := range got.Messages {
			if string(m.ID) != want[j].id || m.Seq != want[j].seq {
				return fmt.Errorf("check: history of %s, row %d: %s/%d, baseline %s/%d", h.thread, j, m.ID, m.Seq, want[j].id, want[j].seq)
			}
		}
	}
	fmt.Fprintf(log, "bench: checked %d inbox pages, %d badges and %d history pages: the Service returns the baseline's rows\n",
		checked, min(20, len(e.technicians))+min(20, len(e.dispatchers)), min(20, len(e.histories)))
	return nil
}

func samePage(got conversations.InboxPage, want []threadRow) error {
	n := len(want)
	if n > 50 {
		n = 50
	}
	if len(got.Threads) != n {
		return fmt.Errorf("%d threads, baseline %d", len(got.Threads), n)
	}
	if (got.NextCursor != "") != (len(want) > 50) {
		return fmt.Errorf("next page: %v, baseline %v", got.NextCursor != "", len(want) > 50)
	}
	for i, t := range got.Threads {
		w := want[i]
		if string(t.ID) != w.id || t.Unread != w.unread || t.LastSeq != w.lastSeq || !t.LastMessageAt.Equal(w.lastAt) || t.Preview != w.preview {
			return fmt.Errorf("row %d: %s unread %d, baseline %s unread %d", i, t.ID, t.Unread, w.id, w.unread)
		}
	}
	return nil
}

func (e *env) sameBadge(ctx context.Context, v conversations.Viewer, query string) error {
	got, err := e.svc.Badge(ctx, v)
	if err != nil {
		return fmt.Errorf("check: badge: %w", err)
	}
	want, err := e.baseCount(ctx, query, v)
	if err != nil {
		return fmt.Errorf("check: baseline badge: %w", err)
	}
	if got != want {
		return fmt.Errorf("check: badge of %s %s: %d, baseline %d", v.Role, v.Staff, got, want)
	}
	return nil
}

// readOp is one read measured on both sides for a rotation of cases.
type readOp struct {
	name     string
	cases    int
	ft, base func(ctx context.Context, i int) error
	baseSQL  []string // the baseline's statements, to tell its server time from fieldtalk's
}

// resetServerTimes clears pg_stat_statements, when the server has it, so
// that what follows can be split into server time per side.
func (e *env) resetServerTimes(ctx context.Context) {
	if e.statements {
		_, _ = e.base.Exec(ctx, "SELECT public.pg_stat_statements_reset()")
	}
}

// serverTimes splits the executor time pg_stat_statements recorded since
// the reset between the baseline's statements and everything else (the
// Service's), per call: what the SQL costs in the server, as opposed to
// the client, the driver and the round trips.
func (e *env) serverTimes(ctx context.Context, op readOp) (string, bool) {
	if !e.statements {
		return "", false
	}
	rows, err := e.base.Query(ctx, `SELECT query, calls, total_exec_time FROM public.pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		return "", false
	}
	defer rows.Close()
	var ftMS, baseMS float64
	var ftCalls int64
	for rows.Next() {
		var q string
		var calls int64
		var total float64
		if err := rows.Scan(&q, &calls, &total); err != nil {
			return "", false
		}
		switch {
		case slices.Contains(op.baseSQL, q):
			baseMS += total
		case strings.Contains(q, "pg_stat_statements"):
		default:
			ftMS += total
			ftCalls += calls
		}
	}
	if rows.Err() != nil {
		return "", false
	}
	n := float64(e.cfg.runs)
	return fmt.Sprintf("server executor time per call %.3f ms fieldtalk (%.1f statements), %.3f ms baseline",
		ftMS/n, float64(ftCalls)/n, baseMS/n), true
}

func (e *env) readOps(ctx context.Context) ([]readOp, error) {
	// The fifth page's cursors, found by paging through both sides.
	type fifth struct {
		v      conversations.Viewer
		cursor string
		after  threadRow
	}
	var fifths []fifth
	for _, v := range e.fivePagers {
		f := fifth{v: v.Viewer}
		var after *threadRow
		for range 4 {
			got, err := e.svc.Inbox(ctx, v.Viewer, conversations.InboxQuery{Limit: 50, After: f.cursor})
			if err != nil {
				return nil, err
			}
			want, err := e.baseTechPage(ctx, v.Viewer, after)
			if err != nil {
				return nil, err
			}
			if got.NextCursor == "" || len(want) <= 50 {
				return nil, fmt.Errorf("technician %s has no fifth page", v.Staff)
			}
			f.cursor, after = got.NextCursor, &want[49]
		}
		f.after = *after
		fifths = append(fifths, f)
	}
	techs, disps, hist := e.technicians, e.dispatchers, e.histories
	ops := []readOp{
		{"technician inbox, first page (50)", len(techs),
			func(ctx context.Context, i int) error {
				_, err := e.svc.Inbox(ctx, techs[i].Viewer, conversations.InboxQuery{Limit: 50})
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := e.baseTechPage(ctx, techs[i].Viewer, nil)
				return err
			}, []string{fmt.Sprintf(baseTechInbox, "")}},
		{"technician inbox, fifth page", len(fifths),
			func(ctx context.Context, i int) error {
				_, err := e.svc.Inbox(ctx, fifths[i].v, conversations.InboxQuery{Limit: 50, After: fifths[i].cursor})
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := e.baseTechPage(ctx, fifths[i].v, &fifths[i].after)
				return err
			}, []string{fmt.Sprintf(baseTechInbox, keyset)}},
		{"dispatcher inbox, first page (50)", len(disps),
			func(ctx context.Context, i int) error {
				_, err := e.svc.Inbox(ctx, disps[i].Viewer, conversations.InboxQuery{Limit: 50})
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := e.baseInbox(ctx, baseDispatcherInbox, string(disps[i].Tenant), string(disps[i].Staff))
				return err
			}, []string{baseDispatcherInbox}},
		{"technician badge", len(techs),
			func(ctx context.Context, i int) error {
				_, err := e.svc.Badge(ctx, techs[i].Viewer)
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := e.baseCount(ctx, baseTechBadge, techs[i].Viewer)
				return err
			}, []string{baseTechBadge}},
		{"dispatcher badge", len(disps),
			func(ctx context.Context, i int) error {
				_, err := e.svc.Badge(ctx, disps[i].Viewer)
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := e.baseCount(ctx, baseDispatcherBadge, disps[i].Viewer)
				return err
			}, []string{baseDispatcherBadge}},
		{"thread history, newest 50 (store.DB.History)", len(hist),
			func(ctx context.Context, i int) error {
				_, err := e.db.History(ctx, hist[i].v.Tenant, hist[i].thread, conversations.HistoryQuery{Limit: 50})
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := e.baseHistory(ctx, baseHistory, string(hist[i].v.Tenant), string(hist[i].thread))
				return err
			}, []string{baseHistory}},
		{"thread history with access check (Service.History)", len(hist),
			func(ctx context.Context, i int) error {
				_, err := e.svc.History(ctx, hist[i].v, hist[i].thread, conversations.HistoryQuery{Limit: 50})
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := e.baseHistory(ctx, baseHistoryChecked, string(hist[i].v.Tenant), string(hist[i].thread), string(hist[i].v.Staff))
				return err
			}, []string{baseHistoryChecked}},
	}
	return ops, nil
}

// measureReads times every read: a warm-up of each side on every case
// (prepared statements cached, generic plans chosen, pages in cache), then
// runs alternating sides and cases.
func (e *env) measureReads(ctx context.Context, log io.Writer) ([]row, error) {
	ops, err := e.readOps(ctx)
	if err != nil {
		return nil, err
	}
	var out []row
	for _, op := range ops {
		if op.cases == 0 {
			fmt.Fprintf(log, "bench: %s: no case in this dataset, skipped\n", op.name)
			continue
		}
		for i := range max(op.cases, min(200, e.cfg.runs)) {
			if err := op.ft(ctx, i%op.cases); err != nil {
				return nil, fmt.Errorf("%s: %w", op.name, err)
			}
			if err := op.base(ctx, i%op.cases); err != nil {
				return nil, fmt.Errorf("%s (baseline): %w", op.name, err)
			}
		}
		ft := make([]time.Duration, 0, e.cfg.runs)
		base := make([]time.Duration, 0, e.cfg.runs)
		timeIt := func(f func(context.Context, int) error, i int, into *[]time.Duration) error {
			t0 := time.Now()
			err := f(ctx, i)
			*into = append(*into, time.Since(t0))
			return err
		}
		e.resetServerTimes(ctx)
		for r := range e.cfg.runs {
			i := r % op.cases
			first, second := op.ft, op.base
			fi, si := &ft, &base
			// Sides alternate, and so does the order per case from one
			// round of cases to the next.
			if (r+r/op.cases)%2 == 1 {
				first, second, fi, si = second, first, si, fi
			}
			if err := timeIt(first, i, fi); err != nil {
				return nil, fmt.Errorf("%s: %w", op.name, err)
			}
			if err := timeIt(second, i, si); err != nil {
				return nil, fmt.Errorf("%s: %w", op.name, err)
			}
		}
		rw := latencyRow(op.name, ft, base)
		rw.note = fmt.Sprintf("%d runs each over %d random viewers", e.cfg.runs, op.cases)
		if st, ok := e.serverTimes(ctx, op); ok {
			rw.note += "; " + st
		}
		fmt.Fprintf(log, "bench: %s\n", rw.text())
		out = append(out, rw)
	}
	return out, nil
}
