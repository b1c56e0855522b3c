package twilio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// fakeAPI answers every call with msg or err, without a network.
type fakeAPI struct {
	msg   *openapi.ApiV2010Message
	err   error
	calls int
}

func (f *fakeAPI) createMessage(context.Context, *openapi.CreateMessageParams) (*openapi.ApiV2010Message, error) {
	f.calls++
	return f.msg, f.err
}

func (f *fakeAPI) fetchMessage(context.Context, string) (*openapi.ApiV2010Message, error) {
	f.calls++
	return f.msg, f.err
}

func (f *fakeAPI) pageMessages(context.Context, *openapi.ListMessageParams, string, string) (*openapi.ListMessageResponse, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &openapi.ListMessageResponse{}, nil
}

var now = time.Date(2025, 10, 21, 7, 27, 0, 0, time.UTC)

func testChannel(t *testing.T, a api) *Channel {
	t.Helper()
	c, err := New(Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken},
		WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	c.api = a
	return c
}

func validOutbound() conversations.Outbound {
	return conversations.Outbound{
		Tenant: "t1", Message: "m1", Channel: conversations.ChannelSMS,
		From: "+14155550100", To: "+14155550142", Body: "On my way",
	}
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestClassifyWithoutNetwork(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "https://api.twilio.com", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name       string
		err        error
		class      conversations.ErrorClass
		code       string
		status     int
		retryAfter time.Duration
	}{
		{"opted out", &client.TwilioRestError{Code: 21610, Status: 400}, conversations.OptedOut, "21610", 400, 0},
		{"rate limit by code", &client.TwilioRestError{Code: 20429, Status: 429}, conversations.Retryable, "20429", 429, 0},
		{"rate limit, Retry-After seconds", &callError{
			err: &client.TwilioRestError{Code: 20429, Status: 429}, status: 429, header: header("Retry-After", "12"), sent: true,
		}, conversations.Retryable, "20429", 429, 12 * time.Second},
		{"rate limit, Retry-After date", &callError{
			err: errors.New("decode"), status: 429, header: header("Retry-After", "Tue, 21 Oct 2025 07:28:00 GMT"), sent: true,
		}, conversations.Retryable, "", 429, time.Minute},
		{"unreachable handset", &client.TwilioRestError{Code: 30003, Status: 400}, conversations.Retryable, "30003", 400, 0},
		{"carrier filtering", &client.TwilioRestError{Code: 30007, Status: 400}, conversations.Permanent, "30007", 400, 0},
		{"invalid To", &client.TwilioRestError{Code: 21211, Status: 400}, conversations.Permanent, "21211", 400, 0},
		{"other 4xx", &client.TwilioRestError{Code: 21606, Status: 400}, conversations.Permanent, "21606", 400, 0},
		{"5xx JSON", &client.TwilioRestError{Code: 20500, Status: 500}, conversations.MaybeSent, "20500", 500, 0},
		{"HTML 503", &callError{err: errors.New("error decoding the response for an HTTP error code: 503"), status: 503, sent: true},
			conversations.MaybeSent, "", 503, 0},
		{"connection dropped after write", &callError{err: io.ErrUnexpectedEOF, sent: true}, conversations.MaybeSent, "", 0, 0},
		{"dial refused", &callError{err: refused}, conversations.Retryable, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := &fakeAPI{err: tt.err}
			_, err := testChannel(t, fa).Send(context.Background(), validOutbound())
			var pe *conversations.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %T %v, want *conversations.ProviderError", err, err)
			}
			if pe.Class != tt.class || pe.Code != tt.code || pe.HTTPStatus != tt.status || pe.RetryAfter != tt.retryAfter {
				t.Errorf("got %v %q %d %v, want %v %q %d %v", pe.Class, pe.Code, pe.HTTPStatus, pe.RetryAfter, tt.class, tt.code, tt.status, tt.retryAfter)
			}
			if pe.Reason == "" || strings.Contains(pe.Reason, "ApiError") {
				t.Errorf("Reason %q must be plain language", pe.Reason)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("the SDK's error must stay in the chain")
			}
			if fa.calls != 1 {
				t.Errorf("api called %d times, want 1 (no hidden retries)", fa.calls)
			}
		})
	}
}

func TestReadsAreNeverMaybeSent(t *testing.T) {
	fa := &fakeAPI{err: &callError{err: io.ErrUnexpectedEOF, sent: true, status: 502}}
	_, err := testChannel(t, fa).FetchStatus(context.Background(), "SM00000000000000000000000000000001")
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Retryable || pe.Op != opFetch {
		t.Errorf("err = %v, want Retryable fetch", err)
	}
	_, err = testChannel(t, fa).Find(context.Background(), validOutbound(), now)
	if !errors.As(err, &pe) || pe.Class != conversations.Retryable || pe.Op != opFind {
		t.Errorf("err = %v, want Retryable find", err)
	}
}

func TestSendReceiptFromResponse(t *testing.T) {
	sid, status, created := "SM00000000000000000000000000000002", "sent", "Tue, 21 Oct 2025 07:26:59 +0000"
	r, err := testChannel(t, &fakeAPI{msg: &openapi.ApiV2010Message{Sid: &sid, Status: &status, DateCreated: &created}}).
		Send(context.Background(), validOutbound())
	if err != nil {
		t.Fatal(err)
	}
	want := conversations.Receipt{ProviderID: sid, Status: conversations.StatusSent, At: time.Date(2025, 10, 21, 7, 26, 59, 0, time.UTC)}
	if r != want {
		t.Errorf("receipt = %+v, want %+v", r, want)
	}
}

func TestSendWithoutSidIsMaybeSent(t *testing.T) {
	_, err := testChannel(t, &fakeAPI{msg: &openapi.ApiV2010Message{}}).Send(context.Background(), validOutbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.MaybeSent {
		t.Errorf("err = %v, want MaybeSent", err)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"120":                           2 * time.Minute,
		"soon":                          0,
		"Tue, 21 Oct 2025 07:27:30 GMT": 30 * time.Second,
		"Tue, 21 Oct 2025 07:00:00 GMT": 0, // in the past
	} {
		if got := retryAfter(header("Retry-After", v), now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}

// TestSignatureMatchesSDK checks our verifier against twilio-go's own
// RequestValidator, on the real payloads.
func TestSignatureMatchesSDK(t *testing.T) {
	token := twiliotest.AuthToken
	sdk := client.NewRequestValidator(token)
	for _, file := range []string{"inbound_sms.form", "inbound_mms.form", "status_delivered.form"} {
		body, err := os.ReadFile("testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		form, _ := url.ParseQuery(string(body))
		for _, u := range []string{
			"https://hooks.example.com/twilio/inbound",
			"https://hooks.example.com/twilio/status?ft_message=m1&ft_tenant=t1",
			"http://localhost:8080/x",
		} {
			sig := twiliotest.Signer{AuthToken: token}.Sign(u, form)
			if !sdk.ValidateBody(u, body, sig) {
				t.Errorf("%s at %s: twiliotest.Signer disagrees with the SDK's validator", file, u)
			}
			if !signatureValid([]byte(token), u, form, sig) {
				t.Errorf("%s at %s: our verifier refuses a signature the SDK accepts", file, u)
			}
			if signatureValid([]byte("another-token"), u, form, sig) {
				t.Errorf("%s at %s: accepted under the wrong token", file, u)
			}
		}
	}
}

func TestParseDlrDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2510210715", time.Date(2025, 10, 21, 7, 15, 0, 0, time.UTC), true},
		{"2510220700", time.Date(2025, 10, 22, 7, 0, 0, 0, time.UTC), true}, // within a day ahead
		{"2510250800", time.Time{}, false},                                  // days ahead
		{"25102107", time.Time{}, false},
		{"2513210715", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseDlrDate(tt.in, now)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseDlrDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
