package policy_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
)

var roles = []conversations.Role{conversations.RoleTechnician, conversations.RoleDispatcher, conversations.RoleAdmin}

// TestDefaultRule checks the product's rule, written out longhand, against
// Rules.CanView on random threads and viewers.
func TestDefaultRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	rules := policy.Default()
	tenants := []conversations.TenantID{"t1", "t2"}
	staff := []conversations.StaffID{"s1", "s2", "s3", "s4"}
	pick := func() []conversations.StaffID {
		var out []conversations.StaffID
		for _, s := range staff {
			if rng.IntN(3) == 0 {
				out = append(out, s)
			}
		}
		return out
	}
	for range 20000 {
		th := conversations.Thread{
			Tenant:       tenants[rng.IntN(2)],
			Kind:         []conversations.ThreadKind{conversations.ThreadCustomer, conversations.ThreadInternal}[rng.IntN(2)],
			Participants: pick(),
			Assignees:    pick(),
		}
		v := conversations.Viewer{Tenant: tenants[rng.IntN(2)], Staff: staff[rng.IntN(len(staff))], Role: roles[rng.IntN(3)]}
		want := false
		if v.Tenant == th.Tenant {
			switch th.Kind {
			case conversations.ThreadInternal:
				want = slices.Contains(th.Participants, v.Staff)
			case conversations.ThreadCustomer:
				want = v.Role != conversations.RoleTechnician ||
					slices.Contains(th.Participants, v.Staff) || slices.Contains(th.Assignees, v.Staff)
			}
		}
		if got := rules.CanView(v, th); got != want {
			t.Fatalf("visibility rule broken: viewer %+v thread %+v: got %v want %v", v, th, got, want)
		}
	}
}

func TestInvalidViewerSeesNothing(t *testing.T) {
	th := conversations.Thread{Tenant: "", Kind: conversations.ThreadCustomer}
	for _, v := range []conversations.Viewer{
		{},
		{Tenant: "t1", Staff: "s1"},
		{Tenant: "t1", Role: conversations.RoleAdmin},
		{Staff: "s1", Role: conversations.RoleAdmin},
	} {
		if policy.Default().CanView(v, th) {
			t.Errorf("an invalid viewer %+v must see nothing", v)
		}
		if s := policy.Default().Scope(v); s.Allows(conversations.Thread{Tenant: v.Tenant, Kind: conversations.ThreadCustomer}) {
			t.Errorf("the scope of invalid viewer %+v must allow nothing", v)
		}
	}
}

func TestWatchers(t *testing.T) {
	staff := []conversations.Staff{
		{Tenant: "t1", ID: "admin", Role: conversations.RoleAdmin},
		{Tenant: "t1", ID: "disp", Role: conversations.RoleDispatcher},
		{Tenant: "t1", ID: "tech1", Role: conversations.RoleTechnician},
		{Tenant: "t1", ID: "tech2", Role: conversations.RoleTechnician},
		{Tenant: "t2", ID: "other", Role: conversations.RoleDispatcher},
	}
	for _, tc := range []struct {
		name   string
		thread conversations.Thread
		want   []conversations.StaffID
	}{
		{"assigned technician watches a customer thread",
			conversations.Thread{Tenant: "t1", Kind: conversations.ThreadCustomer, Assignees: []conversations.StaffID{"tech1"}},
			[]conversations.StaffID{"tech1"}},
		{"participants and assignees",
			conversations.Thread{Tenant: "t1", Kind: conversations.ThreadCustomer, Participants: []conversations.StaffID{"disp"}, Assignees: []conversations.StaffID{"tech2"}},
			[]conversations.StaffID{"disp", "tech2"}},
		{"nobody watching: dispatchers and admins of the business, no one else's",
			conversations.Thread{Tenant: "t1", Kind: conversations.ThreadCustomer},
			[]conversations.StaffID{"admin", "disp"}},
		{"internal thread: participants only",
			conversations.Thread{Tenant: "t1", Kind: conversations.ThreadInternal, Participants: []conversations.StaffID{"tech1", "tech2"}, Assignees: []conversations.StaffID{"disp"}},
			[]conversations.StaffID{"tech1", "tech2"}},
		{"internal assignees see nothing",
			conversations.Thread{Tenant: "t1", Kind: conversations.ThreadInternal, Assignees: []conversations.StaffID{"tech1"}},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := policy.Default().Watchers(tc.thread, staff)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Watchers = %v, want %v", got, tc.want)
			}
		})
	}
}

func ExampleRules_Scope() {
	v := conversations.Viewer{Tenant: "acme-plumbing", Staff: "tech-7", Role: conversations.RoleTechnician}
	s := policy.Default().Scope(v)
	fmt.Printf("all customer threads: %v, participant: %v, assigned jobs: %v\n", s.AllCustomer, s.Participant, s.Assigned)
	// Output: all customer threads: false, participant: true, assigned jobs: true
}
