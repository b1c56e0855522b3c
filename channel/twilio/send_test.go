package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestSendFromBusinessNumber(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	out := outbound()
	out.Media = []conversations.Media{
		{URL: "https://cdn.example.com/invoice-1042.pdf", ContentType: "application/pdf"},
		{URL: "https://cdn.example.com/photo.jpg", ContentType: "image/jpeg"},
	}
	r, err := ch.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != conversations.StatusQueued || r.At.IsZero() {
		t.Errorf("receipt = %+v, want queued with a time", r)
	}
	creates := srv.Creates()
	if len(creates) != 1 || creates[0].SID != r.ProviderID {
		t.Fatalf("server saw %+v, want one create with sid %s", creates, r.ProviderID)
	}
	f := creates[0].Form
	if f.Get("To") != customerNumber || f.Get("From") != businessNumber || f.Get("Body") != out.Body {
		t.Errorf("To/From/Body = %q/%q/%q", f.Get("To"), f.Get("From"), f.Get("Body"))
	}
	if f.Has("MessagingServiceSid") {
		t.Errorf("MessagingServiceSid sent without one on the message")
	}
	if got := f["MediaUrl"]; !slices.Equal(got, []string{out.Media[0].URL, out.Media[1].URL}) {
		t.Errorf("MediaUrl = %v", got)
	}
	cb, err := url.Parse(f.Get("StatusCallback"))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Scheme+"://"+cb.Host+cb.Path != callbackURL ||
		cb.Query().Get(twilio.QueryMessage) != string(out.Message) || cb.Query().Get(twilio.QueryTenant) != string(out.Tenant) {
		t.Errorf("StatusCallback = %s, want %s with our message id and tenant", cb, callbackURL)
	}
}

func TestSendThroughMessagingService(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	svc := twiliotest.NewSID("MG")

	out := outbound()
	out.MessagingService = svc
	if _, err := ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	out.From = ""
	if _, err := ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	c := srv.Creates()
	if c[0].Form.Get("MessagingServiceSid") != svc || c[0].Form.Get("From") != businessNumber {
		t.Errorf("with both: form %v, want the service with the thread's number as sender", c[0].Form)
	}
	if c[1].Form.Get("MessagingServiceSid") != svc || c[1].Form.Has("From") {
		t.Errorf("service only: form %v, want the service and no From", c[1].Form)
	}
}

func TestSendRejectsWithoutCallingTwilio(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	tests := map[string]func(*conversations.Outbound){
		"no sender":             func(o *conversations.Outbound) { o.From, o.MessagingService = "", "" },
		"bad from":              func(o *conversations.Outbound) { o.From = "ACME" },
		"bad messaging service": func(o *conversations.Outbound) { o.MessagingService = "MG123" },
		"bad to":                func(o *conversations.Outbound) { o.To = "555-1234" },
		"to is the business":    func(o *conversations.Outbound) { o.To = o.From },
		"empty body":            func(o *conversations.Outbound) { o.Body = "  " },
		"relative media url":    func(o *conversations.Outbound) { o.Media = []conversations.Media{{URL: "/photo.jpg"}} },
		"email channel":         func(o *conversations.Outbound) { o.Channel = conversations.ChannelEmail },
		"no tenant":             func(o *conversations.Outbound) { o.Tenant = "" },
		"no message id":         func(o *conversations.Outbound) { o.Message = "" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			out := outbound()
			mutate(&out)
			_, err := ch.Send(context.Background(), out)
			if !errors.Is(err, conversations.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("Twilio got %d requests for invalid messages, want 0", n)
	}
}

func TestSendNormalisesNumbers(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	out := outbound()
	out.To, out.From = "(415) 555-0142", "1-415-555-0100"
	if _, err := ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	f := srv.Creates()[0].Form
	if f.Get("To") != customerNumber || f.Get("From") != businessNumber {
		t.Errorf("To/From = %q/%q, want E.164", f.Get("To"), f.Get("From"))
	}
}

func TestSendErrorClassification(t *testing.T) {
	tests := []struct {
		name       string
		fault      twiliotest.Fault
		class      conversations.ErrorClass
		code       string
		status     int
		retryAfter time.Duration
		recorded   bool // Twilio has the message despite the error
	}{
		{"rate limited", twiliotest.RateLimit(30 * time.Second), conversations.Retryable, "20429", 429, 30 * time.Second, false},
		{"opted out", twiliotest.APIError(21610), conversations.OptedOut, "21610", 400, 0, false},
		{"invalid number", twiliotest.APIError(21211), conversations.Permanent, "21211", 400, 0, false},
		{"not a mobile", twiliotest.APIError(21614), conversations.Permanent, "21614", 400, 0, false},
		{"unknown handset", twiliotest.APIError(30005), conversations.Permanent, "30005", 400, 0, false},
		{"landline", twiliotest.APIError(30006), conversations.Permanent, "30006", 400, 0, false},
		{"carrier filtered", twiliotest.APIError(30007), conversations.Permanent, "30007", 400, 0, false},
		{"unreachable handset", twiliotest.APIError(30003), conversations.Retryable, "30003", 400, 0, false},
		{"other 4xx", twiliotest.APIError(21408), conversations.Permanent, "21408", 400, 0, false},
		{"500", twiliotest.ServerError(), conversations.MaybeSent, "20500", 500, 0, false},
		{"HTML 503", twiliotest.HTMLUnavailable(), conversations.MaybeSent, "", 503, 0, false},
		{"dropped after accept", twiliotest.Drop(), conversations.MaybeSent, "", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := twiliotest.NewServer(t)
			ch := newChannel(t, srv)
			srv.Fail(1, tt.fault)
			_, err := ch.Send(context.Background(), outbound())
			var pe *conversations.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %T %v, want *conversations.ProviderError", err, err)
			}
			if pe.Class != tt.class || pe.Code != tt.code || pe.HTTPStatus != tt.status || pe.RetryAfter != tt.retryAfter {
				t.Errorf("got class %v code %q status %d retry-after %v; want %v %q %d %v",
					pe.Class, pe.Code, pe.HTTPStatus, pe.RetryAfter, tt.class, tt.code, tt.status, tt.retryAfter)
			}
			if pe.Provider != "twilio" || pe.Op != "send" || pe.Reason == "" {
				t.Errorf("ProviderError %+v must name twilio/send and give a reason", pe)
			}
			if got := len(srv.Creates()) == 1; got != tt.recorded {
				t.Errorf("Twilio has the message: %v, want %v", got, tt.recorded)
			}
		})
	}
}

func TestSendOptedOutIsErrOptedOut(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	srv.Fail(1, twiliotest.APIError(21610))
	_, err := ch.Send(context.Background(), outbound())
	if !errors.Is(err, conversations.ErrOptedOut) {
		t.Fatalf("err = %v, want errors.Is ErrOptedOut", err)
	}
}

func TestSendTimeoutAfterWriteIsMaybeSent(t *testing.T) {
	srv := twiliotest.NewServer(t)
	cfg := twilio.Config{AccountSID: srv.AccountSID(), AuthToken: srv.AuthToken(), Timeout: 150 * time.Millisecond}
	ch, err := twilio.New(cfg, twilio.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail(1, twiliotest.Hang())
	start := time.Now()
	_, err = ch.Send(context.Background(), outbound())
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Send took %v; Config.Timeout is 150ms", took)
	}
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.MaybeSent || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want MaybeSent wrapping DeadlineExceeded", err)
	}
}

func TestSendConnectionRefusedIsRetryable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	base := dead.URL
	dead.Close() // nothing listens there now
	ch, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken}, twilio.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), outbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Retryable || pe.HTTPStatus != 0 {
		t.Fatalf("err = %v, want Retryable with no HTTP status (nothing was sent)", err)
	}
}

func TestSendWrongCredentialsIsPermanent(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch, err := twilio.New(twilio.Config{AccountSID: srv.AccountSID(), AuthToken: "wrongtoken0000000000000000000000"}, twilio.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), outbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Permanent || pe.HTTPStatus != http.StatusUnauthorized {
		t.Fatalf("err = %v, want Permanent 401", err)
	}
}

func TestSendWithAPIKey(t *testing.T) {
	srv := twiliotest.NewServer(t)
	key, secret := twiliotest.NewSID("SK"), "keysecret0123456789abcdef0123456"
	srv.AddAPIKey(key, secret)
	ch, err := twilio.New(twilio.Config{AccountSID: srv.AccountSID(), APIKeySID: key, APIKeySecret: secret}, twilio.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(context.Background(), outbound()); err != nil {
		t.Fatalf("Send with an API key: %v", err)
	}
}

// countingTransport checks that an injected http.Client's transport is used.
type countingTransport struct {
	n    int
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return c.next.RoundTrip(r)
}

func TestWithHTTPClient(t *testing.T) {
	srv := twiliotest.NewServer(t)
	tr := &countingTransport{next: http.DefaultTransport}
	ch := newChannel(t, srv, twilio.WithHTTPClient(&http.Client{Transport: tr}))
	if _, err := ch.Send(context.Background(), outbound()); err != nil {
		t.Fatal(err)
	}
	if tr.n != 1 {
		t.Errorf("injected transport saw %d requests, want 1", tr.n)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken}
	tests := map[string]struct {
		mutate func(*twilio.Config)
		opts   []twilio.Option
	}{
		"no account":         {mutate: func(c *twilio.Config) { c.AccountSID = "" }},
		"not an account sid": {mutate: func(c *twilio.Config) { c.AccountSID = "SK00000000000000000000000000000001" }},
		"no token":           {mutate: func(c *twilio.Config) { c.AuthToken = "" }},
		"token with symbols": {mutate: func(c *twilio.Config) { c.AuthToken = "abc$def" }},
		"bad api key sid":    {mutate: func(c *twilio.Config) { c.APIKeySID, c.APIKeySecret = "SKnope", "secret" }},
		"relative callback":  {mutate: func(c *twilio.Config) { c.StatusCallbackURL = "/twilio/status" }},
		"underscore host":    {mutate: func(c *twilio.Config) { c.StatusCallbackURL = "https://my_host.example.com/s" }},
		"negative timeout":   {mutate: func(c *twilio.Config) { c.Timeout = -time.Second }},
		"bad base url":       {opts: []twilio.Option{twilio.WithBaseURL("api.twilio.com")}},
		"unknown region":     {opts: []twilio.Option{twilio.WithRegion("ZZ")}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := good
			if tt.mutate != nil {
				tt.mutate(&cfg)
			}
			if _, err := twilio.New(cfg, tt.opts...); !errors.Is(err, conversations.ErrInvalid) {
				t.Errorf("New err = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := twilio.New(good); err != nil {
		t.Errorf("New(good config) = %v", err)
	}
}

func TestFetchStatus(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	ctx := context.Background()
	r, err := ch.Send(ctx, outbound())
	if err != nil {
		t.Fatal(err)
	}
	u, err := ch.FetchStatus(ctx, r.ProviderID)
	if err != nil || u.Status != conversations.StatusQueued || u.ProviderID != r.ProviderID || u.Channel != conversations.ChannelSMS {
		t.Fatalf("FetchStatus = %+v, %v; want queued", u, err)
	}
	if err := srv.SetStatus(r.ProviderID, "undelivered", 30003); err != nil {
		t.Fatal(err)
	}
	u, err = ch.FetchStatus(ctx, r.ProviderID)
	if err != nil || u.Status != conversations.StatusUndelivered || u.ErrorCode != "30003" || u.ErrorReason == "" || u.At.IsZero() {
		t.Fatalf("FetchStatus = %+v, %v; want undelivered with 30003 and a reason", u, err)
	}

	if _, err := ch.FetchStatus(ctx, twiliotest.NewSID("SM")); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("unknown sid: err = %v, want ErrNotFound", err)
	}
	if _, err := ch.FetchStatus(ctx, "../Calls"); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("path-like sid: err = %v, want ErrInvalid", err)
	}
	srv.Fail(1, twiliotest.ServerError())
	_, err = ch.FetchStatus(ctx, r.ProviderID)
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Retryable || pe.Op != "fetch" {
		t.Errorf("fetch on a 500: err = %v, want Retryable (reading again is harmless)", err)
	}
}

func TestStatusMapping(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	ctx := context.Background()
	r, err := ch.Send(ctx, outbound())
	if err != nil {
		t.Fatal(err)
	}
	for twilioStatus, want := range map[string]conversations.Status{
		"accepted": conversations.StatusQueued, "queued": conversations.StatusQueued,
		"sending": conversations.StatusSending, "sent": conversations.StatusSent,
		"delivered": conversations.StatusDelivered, "undelivered": conversations.StatusUndelivered,
		"failed": conversations.StatusFailed, "receiving": conversations.StatusReceived,
		"received": conversations.StatusReceived, "read": conversations.StatusDelivered,
	} {
		if err := srv.SetStatus(r.ProviderID, twilioStatus, 0); err != nil {
			t.Fatal(err)
		}
		u, err := ch.FetchStatus(ctx, r.ProviderID)
		if err != nil || u.Status != want {
			t.Errorf("Twilio %q: got %q, %v; want %q", twilioStatus, u.Status, err, want)
		}
	}
}

func TestFindAfterDroppedConnection(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	ctx := context.Background()

	// An earlier, different message to the same customer must not match.
	if _, err := ch.Send(ctx, outbound()); err != nil {
		t.Fatal(err)
	}
	out := outbound()
	out.Body = "Your invoice for today's visit: $180."
	since := time.Now()
	srv.Fail(1, twiliotest.Drop())
	_, err := ch.Send(ctx, out)
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.MaybeSent {
		t.Fatalf("Send on a dropped connection: %v, want MaybeSent", err)
	}

	r, err := ch.Find(ctx, out, since)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	creates := srv.Creates()
	if r.ProviderID != creates[len(creates)-1].SID || r.Status != conversations.StatusQueued || r.At.IsZero() {
		t.Errorf("Find = %+v, want the dropped message (%s), queued", r, creates[len(creates)-1].SID)
	}

	other := outbound()
	other.Body = "never sent"
	if _, err := ch.Find(ctx, other, since); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("Find(unsent) err = %v, want ErrNotFound", err)
	}

	// The same text twice in the window: Find cannot tell which is ours.
	if _, err := ch.Send(ctx, out); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Find(ctx, out, since); !errors.Is(err, conversations.ErrConflict) {
		t.Errorf("Find(ambiguous) err = %v, want ErrConflict", err)
	}
}

func TestFindIgnoresOlderMessages(t *testing.T) {
	srv := twiliotest.NewServer(t)
	ch := newChannel(t, srv)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	srv.SetClock(func() time.Time { return past })
	out := outbound()
	if _, err := ch.Send(ctx, out); err != nil {
		t.Fatal(err)
	}
	srv.SetClock(time.Now)
	if _, err := ch.Find(ctx, out, time.Now()); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("a message created an hour before the attempt must not match; err = %v", err)
	}
}

func TestBaseURLWithPathPrefix(t *testing.T) {
	srv := twiliotest.NewServer(t)
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(http.StripPrefix("/twilio-api", httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(proxy.Close)
	ch, err := twilio.New(twilio.Config{AccountSID: srv.AccountSID(), AuthToken: srv.AuthToken()}, twilio.WithBaseURL(proxy.URL+"/twilio-api/"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(context.Background(), outbound()); err != nil {
		t.Fatalf("Send through a base URL with a path: %v", err)
	}
	if len(srv.Creates()) != 1 {
		t.Errorf("the fake Twilio did not get the message")
	}
}

func TestSDKEnvironmentIsIgnored(t *testing.T) {
	// twilio-go's default request handler would send these to
	// api.sydney.au1.twilio.com; the base URL must decide.
	t.Setenv("TWILIO_EDGE", "sydney")
	t.Setenv("TWILIO_REGION", "au1")
	srv := twiliotest.NewServer(t)
	if _, err := newChannel(t, srv).Send(context.Background(), outbound()); err != nil {
		t.Fatalf("Send: %v", err)
	}
}
