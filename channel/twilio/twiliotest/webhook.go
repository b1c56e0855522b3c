package twiliotest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Signer signs webhook requests as Twilio does: X-Twilio-Signature is the
// base64 HMAC-SHA1, keyed with the account's auth token, of the full URL
// Twilio was configured with (scheme, host, path and query) followed by
// every form parameter's name and value, sorted by name (and values of a
// repeated name sorted too), with no separators.
type Signer struct {
	AuthToken string
}

// Sign returns the X-Twilio-Signature for a POST of form to webhookURL.
func (s Signer) Sign(webhookURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(webhookURL)
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := slices.Clone(form[k])
		slices.Sort(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(s.AuthToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Request returns a signed server-side request for calling a handler's
// ServeHTTP directly (as httptest.NewRequest does): a POST of form to
// webhookURL with Twilio's headers.
func (s Signer) Request(webhookURL string, form url.Values, idempotencyToken string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, webhookURL, strings.NewReader(form.Encode()))
	setHeaders(r.Header, s.Sign(webhookURL, form), idempotencyToken)
	return r
}

func setHeaders(h http.Header, signature, token string) {
	if token == "" {
		token = NewSID("")
	}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Twilio-Signature", signature)
	h.Set("I-Twilio-Idempotency-Token", token)
	h.Set("User-Agent", "TwilioProxy/1.1")
}

// WebhookClient posts signed webhooks to a handler, as Twilio does.
type WebhookClient struct {
	Signer Signer
	// Target, when set, is where requests really go (scheme and host of
	// an httptest server): the URL given to Post is the public one Twilio
	// was configured with, which is signed, and a proxy in front of the
	// app is simulated by sending its path and query to Target.
	Target string
	// HTTP is the client to post with (http.DefaultClient when nil).
	HTTP *http.Client
}

// Post signs form for webhookURL and posts it. token is the
// I-Twilio-Idempotency-Token header: Twilio repeats it when it retries a
// delivery; empty means a fresh one.
func (c *WebhookClient) Post(ctx context.Context, webhookURL string, form url.Values, token string) (*http.Response, error) {
	target := webhookURL
	if c.Target != "" {
		u, err := url.Parse(webhookURL)
		if err != nil {
			return nil, fmt.Errorf("twiliotest: post: %w", err)
		}
		target = strings.TrimSuffix(c.Target, "/") + u.RequestURI()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("twiliotest: post: %w", err)
	}
	setHeaders(req.Header, c.Signer.Sign(webhookURL, form), token)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	return hc.Do(req)
}

// Media is one attachment of an inbound MMS.
type Media struct {
	URL         string
	ContentType string
}

// Inbound describes an incoming SMS or MMS; Form renders the webhook form
// Twilio posts for it, with every field Twilio sends.
type Inbound struct {
	AccountSID          string // default AccountSID
	MessageSID          string // default a new "SM" (or "MM" with media) sid
	MessagingServiceSID string // optional
	From                string // the customer's number
	To                  string // the business's Twilio number
	Body                string
	Media               []Media
}

// Form returns the webhook form for in.
func (in Inbound) Form() url.Values {
	account := in.AccountSID
	if account == "" {
		account = AccountSID
	}
	sid := in.MessageSID
	if sid == "" {
		sid = NewSID("SM")
		if len(in.Media) > 0 {
			sid = NewSID("MM")
		}
	}
	f := url.Values{}
	f.Set("ToCountry", "US")
	f.Set("ToState", "CA")
	f.Set("SmsMessageSid", sid)
	f.Set("NumMedia", strconv.Itoa(len(in.Media)))
	f.Set("ToCity", "SAN FRANCISCO")
	f.Set("FromZip", "94105")
	f.Set("SmsSid", sid)
	f.Set("FromState", "CA")
	f.Set("SmsStatus", "received")
	f.Set("FromCity", "SAN FRANCISCO")
	f.Set("Body", in.Body)
	f.Set("FromCountry", "US")
	f.Set("To", in.To)
	f.Set("ToZip", "94107")
	f.Set("NumSegments", "1")
	f.Set("ReferralNumMedia", "0")
	f.Set("MessageSid", sid)
	f.Set("AccountSid", account)
	f.Set("From", in.From)
	f.Set("ApiVersion", "2010-04-01")
	if in.MessagingServiceSID != "" {
		f.Set("MessagingServiceSid", in.MessagingServiceSID)
	}
	for i, m := range in.Media {
		f.Set("MediaUrl"+strconv.Itoa(i), m.URL)
		f.Set("MediaContentType"+strconv.Itoa(i), m.ContentType)
	}
	return f
}

// Status describes a status callback; Form renders the webhook form Twilio
// posts for it.
type Status struct {
	AccountSID          string // default AccountSID
	MessageSID          string
	MessagingServiceSID string
	From                string // the business's number
	To                  string // the customer's number
	Status              string // "queued", "sent", "delivered", "undelivered", "failed", ...
	ErrorCode           int    // 0 for none
	RawDlrDoneDate      string // YYMMDDhhmm from the carrier's delivery receipt, when it gave one
}

// Form returns the webhook form for st.
func (st Status) Form() url.Values {
	account := st.AccountSID
	if account == "" {
		account = AccountSID
	}
	f := url.Values{}
	f.Set("SmsSid", st.MessageSID)
	f.Set("SmsStatus", st.Status)
	f.Set("MessageStatus", st.Status)
	f.Set("To", st.To)
	f.Set("MessageSid", st.MessageSID)
	f.Set("AccountSid", account)
	f.Set("From", st.From)
	f.Set("ApiVersion", "2010-04-01")
	if st.MessagingServiceSID != "" {
		f.Set("MessagingServiceSid", st.MessagingServiceSID)
	}
	if st.ErrorCode != 0 {
		f.Set("ErrorCode", strconv.Itoa(st.ErrorCode))
	}
	if st.RawDlrDoneDate != "" {
		f.Set("RawDlrDoneDate", st.RawDlrDoneDate)
	}
	return f
}
