package push_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/push"
)

// A push gateway checks each request before acting on it.
func ExampleVerifyWebhook() {
	secret := []byte("a-shared-secret-of-32-bytes-long")
	handler := func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<20)); err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := push.VerifyWebhook(secret, r.Header, body.Bytes(), time.Now(), 0); err != nil {
			http.Error(w, "forbidden", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted) // decode a push.WebhookBody and deliver it
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /push", handler)

	// What a forged request gets:
	h := http.Header{}
	h.Set(push.HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
	h.Set(push.HeaderSignature, "v1=00")
	err := push.VerifyWebhook(secret, h, []byte(`{}`), time.Now(), 0)
	fmt.Println(errors.Is(err, conversations.ErrForbidden))
	// Output:
	// true
}

// A host that knows its customers' names renders its own alerts and leaves
// the rest to DefaultRender.
func ExampleRenderer() {
	names := map[string]string{"+15005550101": "Pat Jones"}
	render := func(n conversations.Notification) (push.Push, bool) {
		p, ok := push.DefaultRender(n)
		if m := n.Message; ok && m != nil && m.Direction == conversations.DirectionInbound && names[m.From] != "" {
			p.Title = names[m.From]
		}
		return p, ok
	}
	opt := push.WithRenderer(render) // for push.NewFCM or push.NewWebhook
	_ = opt

	p, _ := render(conversations.Notification{Type: conversations.EventMessage, Message: &conversations.Message{
		Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound, From: "+15005550101", Body: "Gate code is 4321",
	}})
	fmt.Printf("%s: %s\n", p.Title, p.Body)
	// Output:
	// Pat Jones: Gate code is 4321
}
