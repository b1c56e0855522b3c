package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// BenchmarkDeliveryThroughput measures delivery from the queue to the fake
// Twilio on loopback: b.N messages are queued first, then the workers start
// and the clock runs until the provider has them all. It reports msgs/s.
//
//	go test -run '^$' -bench DeliveryThroughput -benchtime 2000x ./store/outbox/
func BenchmarkDeliveryThroughput(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var db *store.DB
			if kind == "sqlite" {
				db = testdb.SQLite(b)
			} else {
				db = testdb.Postgres(b)
			}
			ctx := context.Background()
			fake := twiliotest.NewServer(b)
			ob, err := outbox.New(ctx, db, outbox.WithPollInterval(20*time.Millisecond))
			if err != nil {
				b.Fatal(err)
			}
			if err := ob.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			svc, err := conversations.NewService(conversations.Config{
				Store: db, Policy: policy.Default(), Outbox: ob, Channels: []conversations.Channel{newTwilio(b, fake)},
			})
			if err != nil {
				b.Fatal(err)
			}
			tenant := conversations.TenantID("bench")
			disp := conversations.Staff{Tenant: tenant, ID: "dana", Role: conversations.RoleDispatcher}
			must(b, svc.PutStaff(ctx, disp))
			must(b, svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: "+15005550001", Default: true}))
			for i := range b.N {
				_, err := svc.SendSMS(ctx, disp.Viewer(), conversations.SendSMS{To: fmt.Sprintf("+1500777%04d", i%1000), Body: fmt.Sprintf("bench %d", i)})
				must(b, err)
			}
			b.ResetTimer()
			start := time.Now()
			must(b, ob.Start(ctx, svc))
			for fake.Requests() < b.N { // Creates() copies every create: too slow to poll
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			stop, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			must(b, ob.Stop(stop))
		})
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
