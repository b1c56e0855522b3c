package channel

import (
	"fmt"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// DefaultRegion is the region ParsePhone assumes when it is given none.
const DefaultRegion = "US"

// maxPhoneInput bounds the work ParsePhone does on hostile input; no real
// number, however it is punctuated, comes close.
const maxPhoneInput = 64

// PhoneError says why a string is not a plausible phone number. It wraps
// conversations.ErrInvalid.
type PhoneError struct {
	Input  string // what was given (cut to 64 bytes)
	Reason string // why it was refused, in plain language
}

func (e *PhoneError) Error() string {
	return fmt.Sprintf("channel: invalid phone number %q: %s", e.Input, e.Reason)
}

// Unwrap makes errors.Is(err, conversations.ErrInvalid) true.
func (e *PhoneError) Unwrap() error { return conversations.ErrInvalid }

func phoneErr(raw, reason string) error {
	if len(raw) > maxPhoneInput {
		raw = raw[:maxPhoneInput]
	}
	return &PhoneError{Input: raw, Reason: reason}
}

// ParsePhone returns raw as an E.164 number ("+15551234567").
//
// raw may be in international form ("+44 20 7946 0958", "0044 20 7946 0958",
// "011 44 20 7946 0958" from North America, "+44 (0)20 7946 0958") or in a
// national form of region, an ISO 3166 code ("US" when empty): for the North
// American regions "(555) 123-4567", "555.123.4567", "1-555-123-4567"; for
// others the number with its trunk prefix ("020 7946 0958" in "GB").
// Spaces, dashes, dots, slashes and parentheses are ignored, and a leading
// "tel:" is dropped.
//
// The check is for plausibility, not assignment: the country code must
// exist, the number must have a length that country uses, and a North
// American area code must start with 2-9 and not be an N11 service code. It
// does not know which numbers a carrier has handed out. Every error is a
// *PhoneError wrapping conversations.ErrInvalid. A result re-parses to itself.
func ParsePhone(raw, region string) (string, error) {
	if region == "" {
		region = DefaultRegion
	}
	reg, ok := regions[strings.ToUpper(region)]
	if !ok {
		return "", phoneErr(raw, "unknown region "+region)
	}
	if len(raw) > maxPhoneInput {
		return "", phoneErr(raw, "too long")
	}
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(s, "tel:")
	if s == "" {
		return "", phoneErr(raw, "empty")
	}
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	// "(0)" marks a trunk prefix the caller must leave out when dialling
	// from abroad: "+44 (0)20 ..." is "+44 20 ...".
	s = strings.ReplaceAll(s, "(0)", "")
	digits, err := phoneDigits(raw, s)
	if err != nil {
		return "", err
	}
	if len(digits) == 0 {
		return "", phoneErr(raw, "no digits")
	}
	if !plus {
		switch {
		case reg.idd != "" && strings.HasPrefix(digits, reg.idd):
			digits, plus = digits[len(reg.idd):], true
		case strings.HasPrefix(digits, "00"):
			// 00 is the international prefix almost everywhere, and no
			// national number starts with it, so it is international
			// even where the region dials abroad differently.
			digits, plus = digits[2:], true
		}
	}
	if plus {
		return international(raw, digits)
	}
	return national(raw, digits, reg)
}

// phoneDigits keeps the digits of s and refuses anything that is neither a
// digit nor punctuation people write in phone numbers.
func phoneDigits(raw, s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' ||
			r == '\t' || r == '\u00a0' || (r >= '\u2010' && r <= '\u2015') || r == '\u2212':
		case r == '+':
			return "", phoneErr(raw, "'+' is allowed only at the start")
		default:
			return "", phoneErr(raw, fmt.Sprintf("unexpected character %q", r))
		}
	}
	return b.String(), nil
}

func national(raw, digits string, reg region) (string, error) {
	if reg.cc == "1" {
		if len(digits) == 11 && digits[0] == '1' {
			digits = digits[1:]
		}
		if len(digits) != 10 {
			return "", phoneErr(raw, "a North American number has 10 digits")
		}
		return international(raw, "1"+digits)
	}
	if reg.trunk != "" && strings.HasPrefix(digits, reg.trunk) {
		digits = digits[len(reg.trunk):]
	}
	return international(raw, reg.cc+digits)
}

// international checks country code + national number and formats them.
func international(raw, digits string) (string, error) {
	if len(digits) > 15 {
		return "", phoneErr(raw, "more than 15 digits")
	}
	cc := countryCode(digits)
	if cc == "" {
		return "", phoneErr(raw, "unknown country code")
	}
	nsn := digits[len(cc):]
	c := countries[cc]
	if c.stripsTrunk && strings.HasPrefix(nsn, "0") {
		// A trunk 0 written after the country code ("+44 020 ...")
		// is a common slip; the number is the same without it.
		nsn = nsn[1:]
		if strings.HasPrefix(nsn, "0") {
			return "", phoneErr(raw, "national number starts with 0")
		}
	}
	lo, hi := c.minLen, c.maxLen
	if lo == 0 {
		// E.164 numbers have at least 7 digits in all.
		lo, hi = max(4, 7-len(cc)), 15-len(cc)
	}
	if len(nsn) < lo || len(nsn) > hi {
		return "", phoneErr(raw, fmt.Sprintf("+%s numbers have %d to %d digits after the country code", cc, lo, hi))
	}
	if cc == "1" {
		if nsn[0] < '2' {
			return "", phoneErr(raw, "a North American area code starts with 2-9")
		}
		if nsn[1:3] == "11" {
			return "", phoneErr(raw, "N11 codes (411, 911, ...) are services, not area codes")
		}
	}
	return "+" + cc + nsn, nil
}

// countryCode finds the calling code digits start with. ITU codes are
// prefix-free, so at most one length matches.
func countryCode(digits string) string {
	for n := 1; n <= 3 && n <= len(digits); n++ {
		if _, ok := countries[digits[:n]]; ok {
			return digits[:n]
		}
	}
	return ""
}

// region is how numbers are written inside one country.
type region struct {
	cc    string // its calling code
	idd   string // the prefix it dials abroad with
	trunk string // the prefix of national numbers written at home
}

func nanp() region { return region{cc: "1", idd: "011", trunk: "1"} }

var regions = map[string]region{
	// The North American Numbering Plan.
	"US": nanp(), "CA": nanp(), "PR": nanp(), "VI": nanp(), "GU": nanp(), "AS": nanp(),
	"MP": nanp(), "DO": nanp(), "JM": nanp(), "BS": nanp(), "BB": nanp(), "TT": nanp(),
	"BM": nanp(), "AG": nanp(), "AI": nanp(), "DM": nanp(), "GD": nanp(), "KN": nanp(),
	"LC": nanp(), "VC": nanp(), "KY": nanp(), "TC": nanp(), "VG": nanp(), "MS": nanp(),
	"SX": nanp(),

	"GB": {cc: "44", idd: "00", trunk: "0"},
	"IE": {cc: "353", idd: "00", trunk: "0"},
	"AU": {cc: "61", idd: "0011", trunk: "0"},
	"NZ": {cc: "64", idd: "00", trunk: "0"},
	"DE": {cc: "49", idd: "00", trunk: "0"},
	"FR": {cc: "33", idd: "00", trunk: "0"},
	"NL": {cc: "31", idd: "00", trunk: "0"},
	"BE": {cc: "32", idd: "00", trunk: "0"},
	"CH": {cc: "41", idd: "00", trunk: "0"},
	"AT": {cc: "43", idd: "00", trunk: "0"},
	"SE": {cc: "46", idd: "00", trunk: "0"},
	"FI": {cc: "358", idd: "00", trunk: "0"},
	"ES": {cc: "34", idd: "00"},
	"IT": {cc: "39", idd: "00"}, // Italian numbers keep their leading 0
	"PT": {cc: "351", idd: "00"},
	"NO": {cc: "47", idd: "00"},
	"DK": {cc: "45", idd: "00"},
	"PL": {cc: "48", idd: "00"},
	"MX": {cc: "52", idd: "00"},
	"BR": {cc: "55", idd: "00", trunk: "0"},
	"IN": {cc: "91", idd: "00", trunk: "0"},
	"ZA": {cc: "27", idd: "00", trunk: "0"},
	"JP": {cc: "81", idd: "010", trunk: "0"},
	"SG": {cc: "65", idd: "000"},
	"HK": {cc: "852", idd: "001"},
	"IL": {cc: "972", idd: "00", trunk: "0"},
	"AE": {cc: "971", idd: "00", trunk: "0"},
	"PH": {cc: "63", idd: "00", trunk: "0"},
}

// country is what ParsePhone knows about numbers under one calling code.
// minLen/maxLen bound the national significant number; zero means the
// general E.164 bound (4 to 15 minus the code's length).
type country struct {
	minLen, maxLen int
	stripsTrunk    bool // national numbers never start with 0 after the code
}

var countries = func() map[string]country {
	m := map[string]country{}
	// Every assigned ITU-T E.164 country calling code.
	for _, cc := range strings.Fields(`
		1 7
		20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58
		60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98
		211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234
		235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254
		255 256 257 258 260 261 262 263 264 265 266 267 268 269 290 291 297 298 299
		350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376 377 378 379
		380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508
		509 590 591 592 593 594 595 596 597 598 599 670 672 673 674 675 676 677 678 679
		680 681 682 683 685 686 687 688 689 690 691 692 800 808 850 852 853 855 856 870
		878 880 881 882 883 886 888 960 961 962 963 964 965 966 967 968 970 971 972 973
		974 975 976 977 979 992 993 994 995 996 998`) {
		m[cc] = country{}
	}
	// Tighter bounds where we know them, so a digit too many or too few
	// in the numbers customers most often give is caught here.
	for cc, c := range map[string]country{
		"1":   {10, 10, false},
		"7":   {10, 10, false},
		"27":  {9, 9, true},
		"31":  {9, 9, true},
		"32":  {8, 9, true},
		"33":  {9, 9, true},
		"34":  {9, 9, false},
		"39":  {6, 11, false},
		"41":  {9, 9, true},
		"43":  {4, 13, true},
		"44":  {9, 10, true},
		"45":  {8, 8, false},
		"46":  {7, 9, true},
		"47":  {8, 8, false},
		"48":  {9, 9, false},
		"49":  {6, 13, true},
		"52":  {10, 10, false},
		"55":  {10, 11, true},
		"61":  {9, 9, true},
		"63":  {8, 10, true},
		"64":  {8, 10, true},
		"65":  {8, 8, false},
		"81":  {9, 10, true},
		"86":  {8, 11, true},
		"91":  {10, 10, true},
		"351": {9, 9, false},
		"353": {7, 9, true},
		"358": {5, 12, true},
		"852": {8, 8, false},
		"971": {8, 9, true},
		"972": {8, 9, true},
	} {
		m[cc] = c
	}
	return m
}()
