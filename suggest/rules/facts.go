package rules

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// staleAfter is how long past its ETA a job's arrival estimate stops being
// worth repeating: by then the customer knows it is wrong.
const staleAfter = 10 * time.Minute

// Longest a name or address may be before it is left out of a reply, so a
// reply never outgrows conversations.MaxSuggestionLength.
const (
	maxNameRunes     = 30
	maxBusinessRunes = 50
	maxAddressRunes  = 80
)

// facts are what a reply may say, taken from the request and the text,
// nothing else.
type facts struct {
	customer string  // first name; "" when unknown
	tech     techRef // who is coming
	business string
	address  string
	author   string // the sender's first name, for the signature
	hasJob   bool
	eta      string // "today around 2:30 PM", in the reply's language; "" when unknown
	staleETA bool   // the job had an ETA, and it has passed
	window   string // "today between 8 and 10 AM"; "" when unknown or past
	photos   int    // media on a message with no words
	hazard   hazard // for an emergency: the danger named

	// From the customer's text.
	slot       string // the day or time the customer proposed, as a reply echoes it: "Thursday at 5 PM"
	mismatch   bool   // the customer named a time or day the job does not hold
	topic      string // what an "other" question is about: "electrical work"
	identity   bool   // "who is this?"
	correction bool   // access details that correct earlier ones
	billing    bool   // a complaint about a charge
	noise      bool   // a complaint about noise after an install
}

// has answers a template's condition.
func (f *facts) has(cond string) bool {
	switch cond {
	case "eta":
		return f.eta != ""
	case "stale":
		return f.staleETA && f.eta == ""
	case "window":
		return f.window != ""
	case "job":
		return f.hasJob
	case "self":
		return f.tech.self
	case "named":
		return f.tech.name != ""
	case "customer":
		return f.customer != ""
	case "business":
		return f.business != ""
	case "address":
		return f.address != ""
	case "slot":
		return f.slot != ""
	case "mismatch":
		return f.mismatch && f.slot != ""
	case "topic":
		return f.topic != ""
	case "identity":
		return f.identity
	case "correction":
		return f.correction
	case "billing":
		return f.billing
	case "noise":
		return f.noise
	case "photos":
		return f.photos > 0
	case "photos1":
		return f.photos == 1
	case "photosN":
		return f.photos > 1
	}
	return false
}

// techRef names the technician the way a reply should: "I" when the
// author is the technician, their first name, or "our technician".
type techRef struct {
	name string
	self bool
}

func (s *Suggester) facts(req conversations.SuggestRequest, in conversations.Message, now time.Time, lang *language) facts {
	f := facts{
		business: clip(firstNonEmpty(req.Business, jobField(req.Job, func(j *conversations.JobContext) string { return j.Business }), s.cfg.Business), maxBusinessRunes),
		author:   firstName(req.Author.Name),
		hasJob:   req.Job != nil,
	}
	if strings.TrimSpace(in.Body) == "" {
		f.photos = len(in.Media)
	}
	f.customer = firstName(firstNonEmpty(jobField(req.Job, func(j *conversations.JobContext) string { return j.Customer.Name }), req.Thread.Contact.Name))
	j := req.Job
	if j == nil {
		return f
	}
	f.address = clip(strings.TrimSpace(j.Address), maxAddressRunes)
	f.tech = techRef{name: firstName(j.Technician)}
	if f.tech.name != "" && sameName(j.Technician, req.Author.Name) {
		f.tech.self = true
	}
	loc, label := s.location(j.TimeZone)
	if !j.ETA.IsZero() {
		if j.ETA.Add(staleAfter).Before(now) {
			f.staleETA = true
		} else {
			f.eta = lang.day(j.ETA, now, loc) + lang.clockAt("around", j.ETA, loc) + label
		}
	}
	if !j.WindowStart.IsZero() {
		end := j.WindowEnd
		if end.IsZero() {
			end = j.WindowStart
		}
		if !end.Before(now) {
			f.window = lang.day(j.WindowStart, now, loc) + lang.windowText(j.WindowStart, j.WindowEnd, loc) + label
		}
	}
	return f
}

// location loads a job's time zone, caching it per Suggester: loading
// reads the zone database from disk. An unknown zone falls back to UTC and
// says so in the reply ("2:30 PM UTC") rather than pass UTC off as local.
func (s *Suggester) location(name string) (*time.Location, string) {
	if name == "" || name == "UTC" {
		return time.UTC, " UTC"
	}
	if l, ok := s.zones.Load(name); ok {
		return l.(*time.Location), ""
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		s.log.Warn("rules: unknown job time zone, showing UTC", "zone", name, "error", err)
		return time.UTC, " UTC"
	}
	s.zones.Store(name, l)
	return l, ""
}

// day says which day t falls on, seen from now in loc, in l's words:
// "today ", "tomorrow ", "Thursday " within a week, "Thu, Mar 12 " beyond.
func (l *language) day(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	ty, tm, td := t.Date()
	ny, nm, nd := now.Date()
	days := int(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC).Sub(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	switch {
	case days == 0:
		return l.words["today"]
	case days == 1:
		return l.words["tomorrow"]
	case days > 1 && days < 7:
		if names := strings.Split(l.words["weekdays"], "|"); len(names) == 7 {
			return names[t.Weekday()] + " "
		}
	}
	return t.Format(l.words["date"])
}

// clockAt is "around 2:30 PM" ("alrededor de las 2:30 PM").
func (l *language) clockAt(word string, t time.Time, loc *time.Location) string {
	return strings.ReplaceAll(l.words[word], "{t}", clock(t, loc))
}

// clock formats a time of day the way people text it: "9 AM", "2:30 PM".
func clock(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if t.Minute() == 0 {
		return t.Format("3 PM")
	}
	return t.Format("3:04 PM")
}

// windowText is "between 8 and 10 AM", "between 11 AM and 1 PM", or
// "at 9 AM" for a window with no end, in l's words.
func (l *language) windowText(start, end time.Time, loc *time.Location) string {
	if end.IsZero() || !end.After(start) {
		return l.clockAt("at", start, loc)
	}
	s, e := start.In(loc), end.In(loc)
	first := clock(start, loc)
	if s.Format("PM") == e.Format("PM") {
		first = s.Format("3")
		if s.Minute() != 0 {
			first = s.Format("3:04")
		}
	}
	return strings.NewReplacer("{a}", first, "{b}", clock(end, loc)).Replace(l.words["between"])
}

func jobField(j *conversations.JobContext, f func(*conversations.JobContext) string) string {
	if j == nil {
		return ""
	}
	return f(j)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// firstName returns the first word of a person's name, capitalised, or ""
// when it does not look like a name (a phone number, an email address, or
// too long to fit a reply).
func firstName(full string) string {
	w, _, _ := strings.Cut(strings.TrimSpace(full), " ")
	if w == "" || utf8.RuneCountInString(w) > maxNameRunes || strings.ContainsFunc(w, func(r rune) bool {
		return unicode.IsDigit(r) || r == '@' || r == '+'
	}) {
		return ""
	}
	r, size := utf8.DecodeRuneInString(w)
	rest := w[size:]
	if strings.ToUpper(rest) == rest && utf8.RuneCountInString(rest) > 1 {
		rest = strings.ToLower(rest) // "MARIA" → "Maria"; keep "McDonald"
	}
	return string(unicode.ToUpper(r)) + rest
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// clip drops s when it is too long to quote in a reply.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) > max {
		return ""
	}
	return s
}
