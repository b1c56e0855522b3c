package storetest

import (
	"errors"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

var errRollback = errors.New("storetest: roll back")

func testTx(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	th := f.customer()

	err := s.Tx(f.ctx, func(tx conversations.Store) error {
		if _, _, err := tx.AppendMessage(f.ctx, f.inboundMsg(th, "in tx")); err != nil {
			return err
		}
		// Tx on the bound store runs in the same transaction.
		return tx.Tx(f.ctx, func(inner conversations.Store) error {
			got, err := inner.GetThread(f.ctx, f.tenant, th.ID)
			if err != nil {
				return err
			}
			if got.LastSeq != 1 {
				t.Errorf("Tx: a nested Tx runs in the same transaction and sees its writes: LastSeq %d", got.LastSeq)
			}
			// So do the listings.
			sc := conversations.Scope{Tenant: f.tenant, Staff: "staff-tx", AllCustomer: true}
			if p, err := inner.Inbox(f.ctx, sc, conversations.InboxQuery{}); err != nil || len(p.Threads) != 1 || p.Threads[0].LastSeq != 1 {
				t.Errorf("Tx: Inbox in a transaction sees its writes: %+v, %v", p.Threads, err)
			}
			if n, err := inner.Badge(f.ctx, sc); err != nil || n != 1 {
				t.Errorf("Tx: Badge in a transaction sees its writes: %d, %v", n, err)
			}
			if p, err := inner.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{}); err != nil || len(p.Messages) != 1 {
				t.Errorf("Tx: History in a transaction sees its writes: %d messages, %v", len(p.Messages), err)
			}
			if p, err := conversations.WithFallbacks(inner).VisibleHistory(f.ctx, sc, th.ID, conversations.HistoryQuery{}); err != nil || len(p.Messages) != 1 {
				t.Errorf("Tx: VisibleHistory in a transaction sees its writes: %d messages, %v", len(p.Messages), err)
			}
			return errRollback
		})
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Tx: returns fn's error: got %v", err)
	}
	got, err := s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if got.LastSeq != 0 {
		t.Errorf("Tx: fn's error rolls everything back: LastSeq %d, want 0", got.LastSeq)
	}
	h, err := s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{})
	must(t, err, "History")
	if len(h.Messages) != 0 {
		t.Errorf("Tx: fn's error rolls back the messages too: got %d", len(h.Messages))
	}

	var id conversations.ThreadID
	err = s.Tx(f.ctx, func(tx conversations.Store) error {
		c, _, err := tx.CustomerThread(f.ctx, conversations.Thread{Tenant: f.tenant, BusinessNumber: "+15550000000",
			Contact: conversations.Contact{Phone: "+1555tx" + string(th.ID)}})
		if err != nil {
			return err
		}
		id = c.ID
		in := f.inboundMsg(c, "committed")
		if _, _, err := tx.AppendMessage(f.ctx, in); err != nil {
			return err
		}
		// A duplicate inside the transaction is resolved without spoiling it.
		if _, created, err := tx.AppendMessage(f.ctx, in); err != nil || created {
			t.Errorf("Tx: a duplicate inside a transaction returns the first, created=false: %v %v", created, err)
		}
		// An error from one call (a clash) leaves the transaction usable.
		if err := tx.CreateThread(f.ctx, conversations.Thread{ID: c.ID, Tenant: f.tenant, Kind: conversations.ThreadInternal}); !errors.Is(err, conversations.ErrConflict) {
			t.Errorf("Tx: CreateThread with a taken id is ErrConflict inside a transaction too: %v", err)
		}
		_, err = tx.MarkRead(f.ctx, f.tenant, "staff-x", c.ID, 1)
		return err
	})
	must(t, err, "Tx(commit)")
	got, err = s.GetThread(f.ctx, f.tenant, id)
	must(t, err, "GetThread")
	if got.LastSeq != 1 {
		t.Errorf("Tx: a nil error commits: LastSeq %d, want 1", got.LastSeq)
	}
	if h, err := s.ReadHorizon(f.ctx, f.tenant, "staff-x", id); err != nil || h != 1 {
		t.Errorf("Tx: every write of the transaction commits: horizon %d, %v", h, err)
	}
}
