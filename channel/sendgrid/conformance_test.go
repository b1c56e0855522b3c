package sendgrid_test

import (
	"net/http"
	"testing"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Harness{
		New: func(t *testing.T) channeltest.Setup {
			srv := sendgridtest.NewServer(t)
			return channeltest.Setup{
				Channel:  newChannel(t, srv),
				Outbound: outbound(),
				Inject: func(f channeltest.Fault) {
					switch f.Class {
					case conversations.Permanent:
						srv.Fail(1, sendgridtest.APIError(http.StatusForbidden, sendgridtest.MessageUnverifiedSender, "from"))
					case conversations.Retryable:
						srv.Fail(1, sendgridtest.RateLimit(f.RetryAfter))
					case conversations.MaybeSent:
						srv.Fail(1, sendgridtest.ServerError())
					case conversations.OptedOut:
						// t is this scenario's subtest: Inject runs in it.
						t.Skip("SendGrid's Mail Send never refuses an unsubscribed recipient: it accepts the email " +
							"and the webhook reports it dropped (Unsubscribed Address), so Send has no OptedOut")
					default:
						t.Fatalf("no SendGrid fault for class %v", f.Class)
					}
				},
				Stall:         func() { srv.Fail(1, sendgridtest.Hang()) },
				ProviderCalls: srv.Requests,
			}
		},
		Features: channeltest.Features{Faults: true, RetryAfter: true, Stall: true, Addressed: true},
	})
}
