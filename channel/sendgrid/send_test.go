package sendgrid_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestSendEmail(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	ch := newChannel(t, srv)
	out := outbound()
	out.Body = "Hi Jordan,\n\nYour invoice <#1042> & receipt are attached.\nThanks!"
	out.Media = []conversations.Media{{URL: "https://cdn.example.com/invoice-1042.pdf?sig=a&b=c", ContentType: "application/pdf"}}
	r, err := ch.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	sends := srv.Sends()
	if len(sends) != 1 {
		t.Fatalf("SendGrid accepted %d emails, want 1", len(sends))
	}
	s := sends[0]
	if r.ProviderID != s.MessageID || r.Status != conversations.StatusQueued || !r.At.Equal(s.At) {
		t.Errorf("receipt = %+v, want X-Message-Id %s, queued, at the answer's Date %v", r, s.MessageID, s.At)
	}
	m := s.Mail
	if m.From != (sendgridtest.Address{Email: businessAddress, Name: "Acme Plumbing"}) {
		t.Errorf("from = %+v, want the business address with Config.FromName", m.From)
	}
	if len(m.Personalizations) != 1 || len(m.Personalizations[0].To) != 1 || m.Personalizations[0].To[0].Email != customerAddress ||
		len(m.Personalizations[0].CC)+len(m.Personalizations[0].BCC) != 0 {
		t.Errorf("personalizations = %+v, want one, to the customer alone", m.Personalizations)
	}
	if m.Subject != out.Subject {
		t.Errorf("subject = %q, want %q", m.Subject, out.Subject)
	}
	if len(m.Content) != 2 || m.Content[0].Type != "text/plain" || m.Content[1].Type != "text/html" {
		t.Fatalf("content = %+v, want text/plain then text/html", m.Content)
	}
	wantText := out.Body + "\n\n" + out.Media[0].URL
	if m.Content[0].Value != wantText {
		t.Errorf("text/plain = %q, want the body and the media link: %q", m.Content[0].Value, wantText)
	}
	wantHTML := "<p>Hi Jordan,</p>\n<p>Your invoice &lt;#1042&gt; &amp; receipt are attached.<br>Thanks!</p>\n" +
		`<p><a href="https://cdn.example.com/invoice-1042.pdf?sig=a&amp;b=c">https://cdn.example.com/invoice-1042.pdf?sig=a&amp;b=c</a></p>` + "\n"
	if m.Content[1].Value != wantHTML {
		t.Errorf("text/html = %q, want %q (escaped, nothing interpreted)", m.Content[1].Value, wantHTML)
	}
	want := map[string]string{sendgrid.ArgMessage: string(out.Message), sendgrid.ArgTenant: tenant, sendgrid.ArgThread: "thread-1"}
	if len(m.CustomArgs) != len(want) {
		t.Errorf("custom_args = %v, want %v", m.CustomArgs, want)
	}
	for k, v := range want {
		if m.CustomArgs[k] != v {
			t.Errorf("custom_args[%s] = %q, want %q", k, m.CustomArgs[k], v)
		}
	}
}

func TestSendAddressForms(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	ch := newChannel(t, srv)
	out := outbound()
	out.From = `"Acme Plumbing – Dispatch" <dispatch@acme-plumbing.example.com>`
	out.To = "Jordan Lee <Jordan.Lee@Example.NET>"
	out.Thread = ""
	if _, err := ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	m := srv.Sends()[0].Mail
	if m.From != (sendgridtest.Address{Email: "dispatch@acme-plumbing.example.com", Name: "Acme Plumbing – Dispatch"}) {
		t.Errorf("from = %+v, want the name given with the address, not Config.FromName", m.From)
	}
	if to := m.Personalizations[0].To[0]; to != (sendgridtest.Address{Email: "Jordan.Lee@Example.NET", Name: "Jordan Lee"}) {
		t.Errorf("to = %+v", to)
	}
	if _, ok := m.CustomArgs[sendgrid.ArgThread]; ok {
		t.Errorf("custom_args = %v: no %s without a thread", m.CustomArgs, sendgrid.ArgThread)
	}
}

func TestSendRejectsWithoutCallingSendGrid(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	ch := newChannel(t, srv)
	tests := map[string]func(*conversations.Outbound){
		"no to":                 func(o *conversations.Outbound) { o.To = "" },
		"to not an address":     func(o *conversations.Outbound) { o.To = "jordan at example.net" },
		"to a phone number":     func(o *conversations.Outbound) { o.To = "+14155550142" },
		"to two addresses":      func(o *conversations.Outbound) { o.To = "a@example.net, b@example.net" },
		"to without dot domain": func(o *conversations.Outbound) { o.To = "jordan@localhost" },
		"to an address literal": func(o *conversations.Outbound) { o.To = "jordan@[192.0.2.1]" },
		"to header injection":   func(o *conversations.Outbound) { o.To = "jordan@example.net\r\nBcc: x@example.com" },
		"to too long":           func(o *conversations.Outbound) { o.To = strings.Repeat("a", 250) + "@example.net" },
		"to is the business":    func(o *conversations.Outbound) { o.To = strings.ToUpper(businessAddress) },
		"no from":               func(o *conversations.Outbound) { o.From = "" },
		"from not an address":   func(o *conversations.Outbound) { o.From = "Acme Plumbing" },
		"no subject":            func(o *conversations.Outbound) { o.Subject = "  " },
		"subject line break":    func(o *conversations.Outbound) { o.Subject = "Hello\r\nBcc: x@example.com" },
		"subject too long":      func(o *conversations.Outbound) { o.Subject = strings.Repeat("s", sendgrid.MaxSubjectBytes+1) },
		"subject not utf-8":     func(o *conversations.Outbound) { o.Subject = "caf\xe9" },
		"empty body":            func(o *conversations.Outbound) { o.Body = " \n " },
		"oversize body":         func(o *conversations.Outbound) { o.Body = strings.Repeat("a", conversations.MaxBodyRunes+1) },
		"relative media url":    func(o *conversations.Outbound) { o.Media = []conversations.Media{{URL: "/invoice.pdf"}} },
		"sms channel":           func(o *conversations.Outbound) { o.Channel = conversations.ChannelSMS },
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
			var pe *conversations.ProviderError
			if errors.As(err, &pe) {
				t.Errorf("err is a ProviderError; invalid input is caught before SendGrid")
			}
		})
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("SendGrid got %d requests for invalid emails, want 0", n)
	}
}

func TestSendErrorClassification(t *testing.T) {
	tests := []struct {
		name       string
		fault      sendgridtest.Fault
		class      conversations.ErrorClass
		status     int
		retryAfter time.Duration
		said       string // SendGrid's message, which the Reason must carry
		recorded   bool   // SendGrid has the email despite the error
	}{
		{"rate limited", sendgridtest.RateLimit(30 * time.Second), conversations.Retryable, 429, 30 * time.Second, "", false},
		{"rate limited, reset rounds up", sendgridtest.RateLimit(1500 * time.Millisecond), conversations.Retryable, 429, 2 * time.Second, "", false},
		{"invalid request", sendgridtest.APIError(400, "The from email does not contain a valid address.", "from.email"),
			conversations.Permanent, 400, 0, "The from email does not contain a valid address.", false},
		{"unverified sender", sendgridtest.APIError(403, sendgridtest.MessageUnverifiedSender, "from"),
			conversations.Permanent, 403, 0, sendgridtest.MessageUnverifiedSender, false},
		{"too large", sendgridtest.APIError(413, sendgridtest.MessageTooLarge, ""), conversations.Permanent, 413, 0, sendgridtest.MessageTooLarge, false},
		{"request timeout", sendgridtest.APIError(408, "Request Timeout", ""), conversations.Retryable, 408, 0, "", false},
		{"500", sendgridtest.ServerError(), conversations.MaybeSent, 500, 0, "", false},
		{"503", sendgridtest.APIError(503, "Service Unavailable", ""), conversations.MaybeSent, 503, 0, "", false},
		{"dropped after accept", sendgridtest.Drop(), conversations.MaybeSent, 0, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := sendgridtest.NewServer(t)
			ch := newChannel(t, srv)
			srv.Fail(1, tt.fault)
			_, err := ch.Send(context.Background(), outbound())
			var pe *conversations.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %T %v, want *conversations.ProviderError", err, err)
			}
			if pe.Class != tt.class || pe.HTTPStatus != tt.status || pe.RetryAfter != tt.retryAfter {
				t.Errorf("got class %v status %d retry-after %v; want %v %d %v",
					pe.Class, pe.HTTPStatus, pe.RetryAfter, tt.class, tt.status, tt.retryAfter)
			}
			if pe.Provider != "sendgrid" || pe.Op != "send" || pe.Reason == "" {
				t.Errorf("ProviderError %+v must name sendgrid/send and give a reason", pe)
			}
			if tt.said != "" && !strings.Contains(pe.Reason, tt.said) {
				t.Errorf("Reason %q must pass on SendGrid's message %q", pe.Reason, tt.said)
			}
			if pe.Temporary() != (tt.class != conversations.Permanent) || errors.Is(err, conversations.ErrUnavailable) != pe.Temporary() {
				t.Errorf("Temporary() = %v for %v; a temporary error (and only one) wraps ErrUnavailable", pe.Temporary(), pe.Class)
			}
			if got := len(srv.Sends()) == 1; got != tt.recorded {
				t.Errorf("SendGrid has the email: %v, want %v", got, tt.recorded)
			}
			if _, err := ch.Send(context.Background(), outbound()); err != nil {
				t.Errorf("the next send: %v; a fault is for one call", err)
			}
		})
	}
}

func TestSendWrongAPIKeyIsPermanent(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	ch, err := sendgrid.New(sendgrid.Config{APIKey: "SG.revoked.key"}, sendgrid.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), outbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Permanent || pe.HTTPStatus != http.StatusUnauthorized {
		t.Fatalf("err = %v, want Permanent 401", err)
	}
	if !strings.Contains(pe.Reason, sendgridtest.MessageUnauthorized) {
		t.Errorf("Reason %q must pass on SendGrid's message", pe.Reason)
	}
}

func TestSendTimeoutAfterWriteIsMaybeSent(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	ch, err := sendgrid.New(sendgrid.Config{APIKey: srv.APIKey(), Timeout: 150 * time.Millisecond}, sendgrid.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail(1, sendgridtest.Hang())
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

func TestSendCancelledWhileSendGridHangs(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	ch := newChannel(t, srv)
	srv.Fail(1, sendgridtest.Hang())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := ch.Send(ctx, outbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.MaybeSent || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want MaybeSent wrapping context.Canceled (the request had been written)", err)
	}
}

func TestSendCancelledBeforeIsNotSent(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	ch := newChannel(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ch.Send(ctx, outbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Retryable || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Retryable wrapping context.Canceled", err)
	}
	if srv.Requests() != 0 {
		t.Errorf("a cancelled send reached SendGrid")
	}
}

func TestSendConnectionRefusedIsRetryable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	base := dead.URL
	dead.Close() // nothing listens there now
	ch, err := sendgrid.New(sendgrid.Config{APIKey: sendgridtest.APIKey}, sendgrid.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), outbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Retryable || pe.HTTPStatus != 0 {
		t.Fatalf("err = %v, want Retryable with no HTTP status (nothing was sent)", err)
	}
}

// TestConcurrentSendsDoNotShareRequests sends many different emails at once
// and checks that each request SendGrid got is whole and its own: the SDK's
// Client shares one request body across sends, which this must not.
func TestConcurrentSendsDoNotShareRequests(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	ch := newChannel(t, srv)
	const n = 40
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		receipts = map[conversations.MessageID]conversations.Receipt{}
		outs     = map[conversations.MessageID]conversations.Outbound{}
	)
	for i := range n {
		out := outbound()
		out.Subject = "Reminder " + string(rune('A'+i%26)) + string(out.Message)
		out.Body = "Body for " + string(out.Message)
		outs[out.Message] = out
		wg.Go(func() {
			r, err := ch.Send(context.Background(), out)
			if err != nil {
				t.Errorf("send %s: %v", out.Message, err)
				return
			}
			mu.Lock()
			receipts[out.Message] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	sends := srv.Sends()
	if len(sends) != n || srv.Requests() != n {
		t.Fatalf("SendGrid got %d requests and accepted %d emails, want %d each: one request per send", srv.Requests(), len(sends), n)
	}
	for _, s := range sends {
		id := conversations.MessageID(s.Mail.CustomArgs[sendgrid.ArgMessage])
		out, ok := outs[id]
		if !ok {
			t.Fatalf("SendGrid got an email for unknown message %q", id)
		}
		if s.Mail.Subject != out.Subject || s.Mail.Part("text/plain") != out.Body {
			t.Errorf("email for %s carries another send's content: %s", id, s)
		}
		if receipts[id].ProviderID != s.MessageID {
			t.Errorf("message %s: receipt id %s, but SendGrid answered its request with %s", id, receipts[id].ProviderID, s.MessageID)
		}
	}
}

// countingTransport checks that an injected http.Client's transport is used.
type countingTransport struct {
	mu   sync.Mutex
	n    int
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func TestWithHTTPClient(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	tr := &countingTransport{next: http.DefaultTransport}
	ch := newChannel(t, srv, sendgrid.WithHTTPClient(&http.Client{Transport: tr}))
	if _, err := ch.Send(context.Background(), outbound()); err != nil {
		t.Fatal(err)
	}
	if tr.n != 1 {
		t.Errorf("injected transport saw %d requests, want 1", tr.n)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL()+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	ch, err := sendgrid.New(sendgrid.Config{APIKey: srv.APIKey()}, sendgrid.WithBaseURL(redirect.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), outbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Permanent || pe.HTTPStatus != http.StatusTemporaryRedirect {
		t.Fatalf("err = %v, want Permanent 307", err)
	}
	if srv.Requests() != 0 {
		t.Errorf("the redirect was followed with the API key")
	}
}

func TestBaseURLWithPathPrefix(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(http.StripPrefix("/sendgrid-api", httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(proxy.Close)
	ch, err := sendgrid.New(sendgrid.Config{APIKey: srv.APIKey()}, sendgrid.WithBaseURL(proxy.URL+"/sendgrid-api/"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(context.Background(), outbound()); err != nil {
		t.Fatalf("Send through a base URL with a path: %v", err)
	}
	if len(srv.Sends()) != 1 {
		t.Errorf("the fake SendGrid did not get the email")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := sendgrid.Config{APIKey: sendgridtest.APIKey}
	tests := map[string]struct {
		mutate func(*sendgrid.Config)
		opts   []sendgrid.Option
	}{
		"no key":              {mutate: func(c *sendgrid.Config) { c.APIKey = "" }},
		"key without SG.":     {mutate: func(c *sendgrid.Config) { c.APIKey = "ZmllbGR0YWxr" }},
		"key with newline":    {mutate: func(c *sendgrid.Config) { c.APIKey = sendgridtest.APIKey + "\n" }},
		"key with space":      {mutate: func(c *sendgrid.Config) { c.APIKey = "SG.abc def" }},
		"from name line feed": {mutate: func(c *sendgrid.Config) { c.FromName = "Acme\nBcc: x@example.com" }},
		"negative timeout":    {mutate: func(c *sendgrid.Config) { c.Timeout = -time.Second }},
		"relative base url":   {opts: []sendgrid.Option{sendgrid.WithBaseURL("api.sendgrid.com")}},
		"base url with query": {opts: []sendgrid.Option{sendgrid.WithBaseURL("https://api.sendgrid.com/?x=1")}},
		"base url with user":  {opts: []sendgrid.Option{sendgrid.WithBaseURL("https://u:p@api.sendgrid.com")}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := good
			if tt.mutate != nil {
				tt.mutate(&cfg)
			}
			if _, err := sendgrid.New(cfg, tt.opts...); !errors.Is(err, conversations.ErrInvalid) {
				t.Errorf("New err = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := sendgrid.New(good, sendgrid.WithBaseURL("https://api.eu.sendgrid.com")); err != nil {
		t.Errorf("New(good config, EU region) = %v", err)
	}
}

var _ conversations.Channel = (*sendgrid.Channel)(nil)
