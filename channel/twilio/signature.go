package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"net/url"
	"slices"
)

// signatureValid reports whether got is Twilio's X-Twilio-Signature for a
// POST of form to webhookURL: base64(HMAC-SHA1(token, URL + each parameter's
// name and value, sorted by name, and a repeated name's values sorted)).
// Twilio has signed some URLs with the default port and some without, so
// both spellings are accepted, as its own SDKs do. The comparison is in
// constant time.
func signatureValid(token []byte, webhookURL string, form url.Values, got string) bool {
	want, err := base64.StdEncoding.DecodeString(got)
	if err != nil || len(want) != sha1.Size {
		return false
	}
	ok := false
	for _, u := range portSpellings(webhookURL) {
		// No early exit: the time taken does not depend on which matched.
		if hmac.Equal(signature(token, u, form), want) {
			ok = true
		}
	}
	return ok
}

func signature(token []byte, webhookURL string, form url.Values) []byte {
	mac := hmac.New(sha1.New, token)
	mac.Write([]byte(webhookURL))
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := form[k]
		if len(vs) > 1 {
			vs = slices.Clone(vs)
			slices.Sort(vs)
		}
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return mac.Sum(nil)
}

// portSpellings returns u as given and with its scheme's default port
// toggled (added when absent, removed when present).
func portSpellings(u string) []string {
	p, err := url.Parse(u)
	if err != nil {
		return []string{u}
	}
	def := map[string]string{"https": "443", "http": "80"}[p.Scheme]
	if def == "" {
		return []string{u}
	}
	alt := *p
	switch p.Port() {
	case "":
		alt.Host = net.JoinHostPort(p.Hostname(), def)
	case def:
		alt.Host = p.Hostname()
		if ip := net.ParseIP(alt.Host); ip != nil && ip.To4() == nil {
			alt.Host = "[" + alt.Host + "]"
		}
	default:
		return []string{u}
	}
	return []string{u, alt.String()}
}
