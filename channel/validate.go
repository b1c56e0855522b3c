package channel

import (
	"net/url"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// ValidateBody checks an outbound body and its media against the limits in
// conversations (valid UTF-8, at most MaxBodyRunes characters, at most
// MaxMediaItems absolute http(s) URLs of at most MaxURLLength bytes, and not
// empty unless there is media). Errors are *conversations.FieldError, which
// wraps conversations.ErrInvalid.
func ValidateBody(body string, media []conversations.Media) error {
	if !utf8.ValidString(body) {
		return conversations.Invalid("body", "not valid UTF-8")
	}
	if utf8.RuneCountInString(body) > conversations.MaxBodyRunes {
		return conversations.Invalid("body", "longer than 1600 characters")
	}
	if len(media) == 0 && isBlank(body) {
		return conversations.Invalid("body", "empty")
	}
	if len(media) > conversations.MaxMediaItems {
		return conversations.Invalid("media", "more than 10 items")
	}
	for _, m := range media {
		if err := ValidateMediaURL(m.URL); err != nil {
			return err
		}
	}
	return nil
}

// ValidateMediaURL checks that u is an absolute http(s) URL a provider can
// fetch, of at most conversations.MaxURLLength bytes.
func ValidateMediaURL(u string) error {
	if u == "" || len(u) > conversations.MaxURLLength {
		return conversations.Invalid("media.url", "empty or longer than 2048 bytes")
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return conversations.Invalid("media.url", "not an absolute http(s) URL")
	}
	return nil
}

func isBlank(s string) bool {
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r', '\u00a0', '\u200b':
		default:
			return false
		}
	}
	return true
}
