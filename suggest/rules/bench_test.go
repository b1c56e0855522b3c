package rules_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/suggest/rules"
)

// BenchmarkSuggest measures one Suggest call as the Service makes it.
// Reproduce with:
//
//	go test -run '^$' -bench BenchmarkSuggest -benchmem ./suggest/rules/
func BenchmarkSuggest(b *testing.B) {
	s := newSuggester(b, rules.Config{})
	bench := []struct {
		name string
		text string
		job  bool
	}{
		{"typical", "hey when r u guys coming?? been waiting since 8", true},
		{"one word, no job", "y", false},
		{"emergency", "WATER EVERYWHERE pipe burst in basement!!! what do i do", true},
		{"spanish, proposed day", "no puedo el martes, se puede cambiar la cita para el jueves a las 5?", true},
		{"negation and contrast", "dont cancel!! i just want to know when hes getting here, window was 8-10", true},
		{"long", strings.Repeat("So the kitchen sink has been draining slow for about a week now and today it backed up. ", 15) + "Can you come earlier, and how much will it be?", true},
	}
	for _, bc := range bench {
		b.Run(bc.name, func(b *testing.B) {
			j := job()
			if !bc.job {
				j = nil
			}
			req := request(j, inbound("Hi, is this Birchwood?"), outbound("Yes! How can we help?"), inbound(bc.text))
			ctx := context.Background()
			for b.Loop() {
				if _, err := s.Suggest(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
