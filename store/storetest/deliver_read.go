package storetest

import (
	"errors"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// testReadForDelivery: the one read a delivery attempt makes agrees with
// the reads it replaces (GetMessage, OptedOut, GetStaff, NumberOwner), and
// sees nothing of another business (the store's own ability, or the
// fallback's).
func testReadForDelivery(t *testing.T, s conversations.FastStore) {
	r := s
	f := newFixture(t, s)
	g := f.other()
	tech := f.staff(conversations.RoleTechnician)
	number := "+1555" + string(conversations.NewID[conversations.TenantID]())[:8] + "3"
	must(t, s.PutNumber(f.ctx, conversations.BusinessNumber{Tenant: f.tenant, Number: number, Channel: conversations.ChannelSMS, MessagingService: "MG-read"}), "PutNumber")
	th := f.customer(func(th *conversations.Thread) { th.BusinessNumber = number })
	m, _, err := s.AppendMessage(f.ctx, f.outboundMsg(th, tech.ID, "on my way"))
	must(t, err, "AppendMessage")

	d, err := r.ReadForDelivery(f.ctx, f.tenant, m.ID)
	must(t, err, "ReadForDelivery")
	want, err := s.GetMessage(f.ctx, f.tenant, m.ID)
	must(t, err, "GetMessage")
	switch {
	case d.Message.ID != want.ID || d.Message.Body != want.Body || d.Message.Status != want.Status ||
		d.Message.Seq != want.Seq || !d.Message.CreatedAt.Equal(want.CreatedAt) || d.Message.To != want.To:
		t.Errorf("ReadForDelivery: the message must be GetMessage's: got %+v, want %+v", d.Message, want)
	case d.OptedOut:
		t.Errorf("ReadForDelivery: a recipient who never texted STOP is not opted out")
	case !d.AuthorFound || d.Author.ID != tech.ID || d.Author.Role != tech.Role || d.Author.Tenant != f.tenant:
		t.Errorf("ReadForDelivery: the author must be the sending staff member: got %v %+v", d.AuthorFound, d.Author)
	case d.MessagingService != "MG-read":
		t.Errorf("ReadForDelivery: the sender number's Messaging Service: got %q", d.MessagingService)
	}

	stop := conversations.OptOut{Tenant: f.tenant, Address: th.Contact.Phone, BusinessNumber: number, Keyword: "STOP", OptedOut: true, At: f.tick()}
	must(t, s.RecordOptOut(f.ctx, stop), "RecordOptOut(STOP)")
	if d, err = r.ReadForDelivery(f.ctx, f.tenant, m.ID); err != nil || !d.OptedOut {
		t.Errorf("ReadForDelivery: after STOP the recipient is opted out: got %v, %v", d.OptedOut, err)
	}
	start := stop
	start.Keyword, start.OptedOut, start.At = "START", false, f.tick()
	must(t, s.RecordOptOut(f.ctx, start), "RecordOptOut(START)")
	if d, err = r.ReadForDelivery(f.ctx, f.tenant, m.ID); err != nil || d.OptedOut {
		t.Errorf("ReadForDelivery: after START the recipient may be texted again: got %v, %v", d.OptedOut, err)
	}

	// Another business's STOP from the same address, a staff member of the
	// same id and the same number's settings are not this one's.
	must(t, s.RecordOptOut(g.ctx, conversations.OptOut{Tenant: g.tenant, Address: th.Contact.Phone, Keyword: "STOP", OptedOut: true, At: g.tick()}), "RecordOptOut(other)")
	must(t, s.PutStaff(g.ctx, conversations.Staff{Tenant: g.tenant, ID: "nobody-" + tech.ID, Role: conversations.RoleAdmin}), "PutStaff(other)")
	if d, err = r.ReadForDelivery(f.ctx, f.tenant, m.ID); err != nil || d.OptedOut {
		t.Errorf("ReadForDelivery: another business's STOP does not count: got %v, %v", d.OptedOut, err)
	}
	if _, err := r.ReadForDelivery(g.ctx, g.tenant, m.ID); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("ReadForDelivery: another business's message is ErrNotFound: got %v", err)
	}

	// An inbound message has no staff author; its sender is the customer.
	in := f.inbound(th, "thanks")
	if d, err = r.ReadForDelivery(f.ctx, f.tenant, in.ID); err != nil || d.AuthorFound || d.MessagingService != "" {
		t.Errorf("ReadForDelivery: a customer's message has no staff author or Messaging Service: got %v %q, %v", d.AuthorFound, d.MessagingService, err)
	}
}
