package host

import (
	"net/http"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// demoPeoplePath lists the demo's staff with their tokens: it is the web
// app's sign-in, the demo's stand-in for a host's real one. It hands out
// tokens to anyone who asks, as the banner prints them to anyone who reads
// the terminal, so it exists only with WithDemo, on a server that listens
// on loopback by default.
const demoPeoplePath = "GET /demo/people"

func newDemoRoutes(d *Demo) []Route {
	type person struct {
		ID    conversations.StaffID `json:"id"`
		Name  string                `json:"name"`
		Role  conversations.Role    `json:"role"`
		About string                `json:"about"`
		Token string                `json:"token"`
	}
	type job struct {
		ID    conversations.JobID `json:"id"`
		Title string              `json:"title"`
	}
	people := make([]person, len(d.Staff))
	for i, s := range d.Staff {
		people[i] = person{ID: s.ID, Name: s.Name, Role: s.Role, About: s.About, Token: s.Token}
	}
	body := map[string]any{
		"business": d.Name,
		"people":   people,
		"jobs":     []job{{ID: d.Job, Title: demoJobTitle + " (" + d.Customer.Name + ")"}},
	}
	return []Route{{demoPeoplePath, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, body)
	})}}
}
