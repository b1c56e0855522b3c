package twilio_test

import (
	"testing"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Harness{
		New: func(t *testing.T) channeltest.Setup {
			srv := twiliotest.NewServer(t)
			return channeltest.Setup{
				Channel:  newChannel(t, srv),
				Outbound: outbound(),
				Inject: func(f channeltest.Fault) {
					switch f.Class {
					case conversations.Permanent:
						srv.Fail(1, twiliotest.APIError(21211))
					case conversations.Retryable:
						srv.Fail(1, twiliotest.RateLimit(f.RetryAfter))
					case conversations.MaybeSent:
						srv.Fail(1, twiliotest.ServerError())
					case conversations.OptedOut:
						srv.Fail(1, twiliotest.APIError(21610))
					default:
						t.Fatalf("no Twilio fault for class %v", f.Class)
					}
				},
				Stall:         func() { srv.Fail(1, twiliotest.Hang()) },
				ProviderCalls: srv.Requests,
			}
		},
		Features: channeltest.Features{Faults: true, RetryAfter: true, Stall: true, Addressed: true},
	})
}
