package conversations

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Settings are a business's own settings.
type Settings struct {
	Tenant    TenantID
	Name      string     // the display name replies and notifications use
	Quiet     QuietHours // when automated messages wait
	UpdatedAt time.Time
}

// QuietHours is the daily window in which automated (workflow) messages wait
// for the business's customers; messages a person sends never wait. Start and
// End are "HH:MM" local times in TimeZone (an IANA name); a window whose
// Start is after its End spans midnight ("21:00"–"08:00"). Empty Start and
// End mean no quiet hours.
type QuietHours struct {
	Start    string
	End      string
	TimeZone string
}

// Validate reports a *FieldError when q is malformed.
func (q QuietHours) Validate() error {
	_, err := q.window()
	return err
}

type window struct {
	start, end int // minutes after midnight
	loc        *time.Location
}

func (q QuietHours) window() (*window, error) {
	if q.Start == "" && q.End == "" {
		return nil, nil
	}
	start, err := clock(q.Start)
	if err != nil {
		return nil, Invalid("quiet_hours.start", err.Error())
	}
	end, err := clock(q.End)
	if err != nil {
		return nil, Invalid("quiet_hours.end", err.Error())
	}
	if start == end {
		return nil, Invalid("quiet_hours", "start and end are the same time")
	}
	loc, err := time.LoadLocation(q.TimeZone)
	if err != nil || q.TimeZone == "" {
		return nil, Invalid("quiet_hours.time_zone", "not an IANA time zone name")
	}
	return &window{start: start, end: end, loc: loc}, nil
}

func clock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 23 || m > 59 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return h*60 + m, nil
}

// Next returns t when it is outside the quiet window, else the moment the
// window ends (in t's day or the next, in the business's time zone).
func (q QuietHours) Next(t time.Time) time.Time {
	w, err := q.window()
	if err != nil || w == nil {
		return t
	}
	local := t.In(w.loc)
	mins := local.Hour()*60 + local.Minute()
	inside := mins >= w.start && mins < w.end
	if w.start > w.end {
		inside = mins >= w.start || mins < w.end
	}
	if !inside {
		return t
	}
	day := local
	if w.start > w.end && mins >= w.start {
		day = local.AddDate(0, 0, 1)
	}
	open := time.Date(day.Year(), day.Month(), day.Day(), w.end/60, w.end%60, 0, 0, w.loc)
	return open.UTC()
}

// SettingsStore keeps each business's settings.
type SettingsStore interface {
	PutSettings(ctx context.Context, s Settings) error
	// GetSettings returns the tenant's settings; a tenant that never saved
	// any gets the zero Settings (with Tenant set), not ErrNotFound.
	GetSettings(ctx context.Context, tenant TenantID) (Settings, error)
}

// PutSettings saves a business's settings.
func (s *Sync) PutSettings(ctx context.Context, st Settings) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.PutSettings", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := checkID("tenant", st.Tenant); err != nil {
		return err
	}
	if err := CheckLine("name", st.Name, MaxNameRunes); err != nil {
		return err
	}
	if err := CheckLine("quiet_hours.time_zone", st.Quiet.TimeZone, MaxIDRunes); err != nil {
		return err
	}
	if err := st.Quiet.Validate(); err != nil {
		return err
	}
	st.UpdatedAt = s.now()
	return s.store.PutSettings(ctx, st)
}

// Settings returns a business's settings.
func (s *Sync) Settings(ctx context.Context, tenant TenantID) (Settings, error) {
	ctx, span := s.tel.start(ctx, "conversations.Settings", trace.SpanKindInternal)
	defer span.End()
	if err := checkID("tenant", tenant); err != nil {
		return Settings{}, err
	}
	return s.store.GetSettings(ctx, tenant)
}
