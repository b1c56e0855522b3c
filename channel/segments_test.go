package channel_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestCountSegments(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		enc        channel.Encoding
		count      int
		characters int
		units      int
	}{
		{"empty", "", channel.GSM7, 0, 0, 0},
		{"short", "On my way, ETA 10 min", channel.GSM7, 1, 21, 21},
		{"160 GSM-7 fits one", strings.Repeat("a", 160), channel.GSM7, 1, 160, 160},
		{"161 GSM-7 needs two", strings.Repeat("a", 161), channel.GSM7, 2, 161, 161},
		{"306 GSM-7 fills two parts", strings.Repeat("a", 306), channel.GSM7, 2, 306, 306},
		{"307 GSM-7 needs three", strings.Repeat("a", 307), channel.GSM7, 3, 307, 307},
		{"accented GSM-7 letters", "Café Ñoño à ß", channel.GSM7, 1, 13, 13},
		{"acute u is not GSM-7", "menú", channel.UCS2, 1, 4, 4},
		{"extension chars count two", strings.Repeat("€", 80), channel.GSM7, 1, 80, 160},
		{"one extension char too many", strings.Repeat("€", 81), channel.GSM7, 2, 81, 162},
		// 306 septets would fill two parts exactly, but the escape pair after
		// 152 septets does not fit the first part's last septet: three parts.
		{"extension char not split", strings.Repeat("a", 152) + "[" + strings.Repeat("a", 152), channel.GSM7, 3, 305, 306},
		{"backtick is not GSM-7", "`", channel.UCS2, 1, 1, 1},
		{"70 UCS-2 fits one", strings.Repeat("ą", 70), channel.UCS2, 1, 70, 70},
		{"71 UCS-2 needs two", strings.Repeat("ą", 71), channel.UCS2, 2, 71, 71},
		{"134 UCS-2 fills two parts", strings.Repeat("ą", 134), channel.UCS2, 2, 134, 134},
		{"135 UCS-2 needs three", strings.Repeat("ą", 135), channel.UCS2, 3, 135, 135},
		{"emoji count two units", strings.Repeat("👍", 35), channel.UCS2, 1, 35, 70},
		{"emoji one too many", strings.Repeat("👍", 36), channel.UCS2, 2, 36, 72},
		// 134 units would fill two parts exactly, but the surrogate pair after
		// 66 units does not fit the first part's last unit: three parts.
		{"surrogate pair not split", strings.Repeat("ą", 66) + "👍" + strings.Repeat("ą", 66), channel.UCS2, 3, 133, 134},
		{"one emoji turns GSM-7 into UCS-2", strings.Repeat("a", 69) + "🙂", channel.UCS2, 2, 70, 71},
		{"max body", strings.Repeat("a", conversations.MaxBodyRunes), channel.GSM7, 11, 1600, 1600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := channel.CountSegments(tt.body)
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			want := channel.Segments{Encoding: tt.enc, Count: tt.count, Characters: tt.characters, Units: tt.units}
			if got != want {
				t.Errorf("CountSegments = %+v, want %+v", got, want)
			}
		})
	}
}

func TestCountSegmentsRejects(t *testing.T) {
	for name, body := range map[string]string{
		"over 1600 characters": strings.Repeat("a", conversations.MaxBodyRunes+1),
		"invalid UTF-8":        "ok \xff",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := channel.CountSegments(body)
			if !errors.Is(err, conversations.ErrInvalid) {
				t.Errorf("err = %v, want one wrapping conversations.ErrInvalid", err)
			}
		})
	}
}
