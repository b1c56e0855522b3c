package store_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// The debug log of statements carries their shape only: no message body,
// no phone number, no name, on either database, whichever path (bun's
// formatted statements, the hand-written ones, the inbound pipeline) runs.
func TestQueryLogCarriesNoValues(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "fieldtalk.db") },
		"postgres": func(t *testing.T) string { return testdb.PostgresDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var (
				mu    sync.Mutex
				lines []string
			)
			log := slog.New(handlerFunc(func(r slog.Record) {
				var b strings.Builder
				b.WriteString(r.Message)
				r.Attrs(func(a slog.Attr) bool {
					b.WriteString(" " + a.Key + "=" + a.Value.String())
					return true
				})
				mu.Lock()
				lines = append(lines, b.String())
				mu.Unlock()
			}))
			db, err := store.Open(ctx, dsn(t), store.WithLogger(log))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default(), Jobs: db})
			if err != nil {
				t.Fatal(err)
			}
			const (
				tenant   = "acme"
				number   = "+15005550006"
				customer = "+15005550987"
				body     = "the gate code is 7319, O'Brien's house"
				name     = "Theodora Quist"
			)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(svc.PutStaff(ctx, conversations.Staff{Tenant: tenant, ID: "dana", Name: name, Role: conversations.RoleDispatcher}))
			must(svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Default: true}))
			dana := conversations.Viewer{Tenant: tenant, Staff: "dana", Role: conversations.RoleDispatcher}
			for i, sid := range []string{"SM1", "SM2"} { // the second takes the one-statement path
				m, _, err := svc.Receive(ctx, conversations.InboundMessage{
					Channel: conversations.ChannelSMS, BusinessNumber: number, From: customer, Body: body + strings.Repeat("!", i), ProviderID: sid,
				})
				must(err)
				_, err = svc.SaveDraft(ctx, dana, conversations.Draft{Thread: m.Thread, Body: body})
				must(err)
				_, err = svc.History(ctx, dana, m.Thread, conversations.HistoryQuery{})
				must(err)
			}
			_, err = svc.Inbox(ctx, dana, conversations.InboxQuery{})
			must(err)

			mu.Lock()
			defer mu.Unlock()
			queries := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "store: query") {
					queries++
				}
				for _, secret := range []string{"gate code", "7319", "Brien", "5550987", "5550006", name} {
					if strings.Contains(l, secret) {
						t.Errorf("a log line carries %q: %s", secret, l)
					}
				}
			}
			if queries < 10 {
				t.Fatalf("only %d statements logged at debug level: the test saw nothing to check", queries)
			}
		})
	}
}
