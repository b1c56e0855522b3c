package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Timestamps are stored in UTC, truncated to microseconds (what PostgreSQL's
// timestamptz keeps), so a time read back equals the time written.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTime stores a zero time as NULL (a status not reached yet).
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dbTime(t)
}

// textTimeLayouts are the text forms a timestamp can come back in from
// SQLite: bun's (what fieldtalk writes) first, then what other writers use.
var textTimeLayouts = []string{
	"2006-01-02 15:04:05.999999-07:00",
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
}

// timeCol scans a timestamp column whatever form the driver returns it in
// (pgx: time.Time, or its own Timestamptz on pgx's rows; SQLite: time.Time
// when the declared type says TIMESTAMP, text when an expression hides it),
// NULL as the zero time, always in UTC.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = x.UTC()
	case string:
		return c.parse(x)
	case []byte:
		return c.parse(string(x))
	default:
		return fmt.Errorf("store: scan time: unexpected %T", v)
	}
	return nil
}

// ScanTimestamptz is how pgx's own rows fill a timeCol (pgtype's
// TimestamptzScanner), straight from the wire format; the database/sql path
// goes through Scan.
func (c timeCol) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*c.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return fmt.Errorf("store: scan time: unexpected infinity")
	default:
		*c.t = v.Time.UTC()
	}
	return nil
}

func (c timeCol) parse(s string) error {
	for _, layout := range textTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			*c.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("store: scan time: unrecognized %q", s)
}

func mediaJSON(m []conversations.Media) (string, error) {
	if len(m) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("store: encode media: %w", err)
	}
	return string(b), nil
}

func parseMedia(s string) ([]conversations.Media, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var m []conversations.Media
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("store: decode media: %w", err)
	}
	return m, nil
}

// previewRunes is how much of the newest message a thread row shows.
const previewRunes = 80

// preview is the first previewRunes characters of body with runs of white
// space (newlines included) folded to one space, as an inbox row shows it.
func preview(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(s) <= previewRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == previewRunes {
			return s[:i]
		}
		n++
	}
	return s
}
