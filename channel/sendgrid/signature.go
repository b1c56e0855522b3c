package sendgrid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The Signed Event Webhook's headers.
const (
	// SignatureHeader carries base64 of the ASN.1 DER ECDSA signature.
	SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	// TimestampHeader carries the Unix time of signing, in seconds; it is
	// signed too.
	TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// Why a request was refused (for the log; the answer is 403 either way).
var (
	errUnsigned = errors.New("missing " + SignatureHeader + " or " + TimestampHeader)
	errForged   = errors.New("the signature does not verify with the configured public key")
	errStale    = errors.New("the signed timestamp is outside the allowed skew")
)

// parsePublicKey reads the verification key as SendGrid shows it: base64
// of the DER-encoded (PKIX) public key, which must be ECDSA on P-256. A PEM
// block, and line breaks from pasting, are tolerated. It does what
// eventwebhook.ConvertPublicKeyBase64ToECDSA does, but returns an error
// where that function would panic on a key of another type.
func parsePublicKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, conversations.Invalid("public_key", "empty")
	}
	var der []byte
	if strings.HasPrefix(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil || block.Type != "PUBLIC KEY" {
			return nil, conversations.Invalid("public_key", "not a PEM PUBLIC KEY block")
		}
		der = block.Bytes
	} else {
		var err error
		der, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, conversations.Invalid("public_key", "not base64")
		}
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, conversations.Invalid("public_key", "not a DER-encoded public key")
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, conversations.Invalid("public_key", "not an ECDSA key")
	}
	if key.Curve != elliptic.P256() {
		return nil, conversations.Invalid("public_key", "not on the P-256 curve")
	}
	return key, nil
}

// verifySignature checks a request's signature and its freshness. The
// signed payload is the timestamp header's text followed by the raw body,
// hashed with SHA-256, exactly as eventwebhook.VerifySignature checks it.
// The timestamp is checked only once the signature holds, since only then
// is it SendGrid's.
func verifySignature(key *ecdsa.PublicKey, h http.Header, body []byte, now time.Time, maxSkew time.Duration) error {
	sig, ts := h.Get(SignatureHeader), h.Get(TimestampHeader)
	if sig == "" || ts == "" {
		return errUnsigned
	}
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errForged
	}
	d := sha256.New()
	d.Write([]byte(ts))
	d.Write(body)
	if !ecdsa.VerifyASN1(key, d.Sum(nil), der) {
		return errForged
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errStale
	}
	// Compared as instants, not as a difference, which could overflow.
	at := time.Unix(sec, 0)
	if at.Before(now.Add(-maxSkew)) || at.After(now.Add(maxSkew)) {
		return errStale
	}
	return nil
}
