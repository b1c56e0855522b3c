package storetest

import (
	"encoding/base64"
	"slices"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func testInboxPaging(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	disp := f.staff(conversations.RoleDispatcher)
	sc := conversations.Scope{Tenant: f.tenant, Staff: disp.ID, AllCustomer: true, Participant: true}
	const n = conversations.DefaultPageSize + 5
	for range n {
		f.customer()
	}
	p := f.inbox(sc, conversations.InboxQuery{})
	if len(p.Threads) != conversations.DefaultPageSize || p.NextCursor == "" {
		t.Errorf("Inbox: Limit 0 means DefaultPageSize (%d) with a cursor to the rest: got %d", conversations.DefaultPageSize, len(p.Threads))
	}
	rest := f.inbox(sc, conversations.InboxQuery{After: p.NextCursor})
	if len(rest.Threads) != 5 || rest.NextCursor != "" {
		t.Errorf("Inbox: the last page has NextCursor \"\": got %d threads, cursor %q", len(rest.Threads), rest.NextCursor)
	}
	exact := f.inbox(sc, conversations.InboxQuery{Limit: n})
	if len(exact.Threads) != n || exact.NextCursor != "" {
		t.Errorf("Inbox: a page that holds everything is the last: got %d, cursor %q", len(exact.Threads), exact.NextCursor)
	}
	if len(f.inboxAll(sc, conversations.FilterAll, 7)) != n {
		t.Errorf("Inbox: walking pages with the cursor visits every thread once")
	}
	_, err := s.Inbox(f.ctx, sc, conversations.InboxQuery{Limit: conversations.MaxPageSize + 1})
	wantErr(t, err, conversations.ErrInvalid, "Inbox: a Limit above MaxPageSize is ErrInvalid")
	_, err = s.Inbox(f.ctx, sc, conversations.InboxQuery{Limit: -1})
	wantErr(t, err, conversations.ErrInvalid, "Inbox: a negative Limit is ErrInvalid")
	_, err = s.Inbox(f.ctx, sc, conversations.InboxQuery{Filter: "starred"})
	wantErr(t, err, conversations.ErrInvalid, "Inbox: an unknown filter is ErrInvalid")
	for _, bad := range []string{"%%%", base64.RawURLEncoding.EncodeToString([]byte("no-colon")),
		base64.RawURLEncoding.EncodeToString([]byte("x:thread")), base64.RawURLEncoding.EncodeToString([]byte("12:"))} {
		_, err = s.Inbox(f.ctx, sc, conversations.InboxQuery{After: bad})
		wantErr(t, err, conversations.ErrInvalid, "Inbox: a malformed cursor is ErrInvalid")
	}
	for _, empty := range []conversations.Scope{
		{Staff: disp.ID, AllCustomer: true},
		{Tenant: f.tenant, AllCustomer: true, AllInternal: true},
		{Tenant: f.tenant, Staff: disp.ID},
	} {
		p := f.inbox(empty, conversations.InboxQuery{})
		if len(p.Threads) != 0 || p.NextCursor != "" {
			t.Errorf("Inbox: a scope without tenant, staff or any grant allows nothing (%+v): got %d threads", empty, len(p.Threads))
		}
	}
}

func testInboxOrder(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	disp := f.staff(conversations.RoleDispatcher)
	sc := conversations.Scope{Tenant: f.tenant, Staff: disp.ID, AllCustomer: true, AllInternal: true, Participant: true}
	// Times chosen so that text and time order could disagree if stored in
	// a format that does not sort: sub-second fractions of different
	// lengths, the same instant, and a date change.
	base := time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)
	offsets := []time.Duration{
		0, 500 * time.Millisecond, 50 * time.Millisecond, time.Microsecond, 999999 * time.Microsecond,
		time.Second, time.Second + 100*time.Microsecond, 0, 0, 10 * time.Second, -time.Hour,
	}
	var want []conversations.Thread
	for i, off := range offsets {
		at := base.Add(off)
		var th conversations.Thread
		if i%3 == 2 {
			th = f.internal(disp.ID)
		} else {
			th = f.customer()
		}
		var m conversations.Message
		if th.Kind == conversations.ThreadCustomer {
			m = f.inboundMsg(th, "x")
		} else {
			m = f.noteMsg(th, disp.ID, "x")
		}
		m.CreatedAt = at
		_, _, err := s.AppendMessage(f.ctx, m)
		must(t, err, "AppendMessage")
		th.LastMessageAt = at
		want = append(want, th)
	}
	slices.SortFunc(want, func(a, b conversations.Thread) int {
		if c := b.LastMessageAt.Compare(a.LastMessageAt); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	for _, limit := range []int{0, 1, 2, 3} {
		got := f.inboxAll(sc, conversations.FilterAll, limit)
		if !equalIDs(ids(got), ids(want)) {
			t.Errorf("Inbox: newest activity first (LastMessageAt, then ID, descending), page size %d:\n got %v\nwant %v", limit, ids(got), ids(want))
		}
		for i := range got {
			if i < len(want) && !got[i].LastMessageAt.Equal(want[i].LastMessageAt) {
				t.Errorf("Inbox: LastMessageAt reads back exactly: got %v, want %v", got[i].LastMessageAt, want[i].LastMessageAt)
			}
		}
	}
}
