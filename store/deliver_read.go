package store

import (
	"context"

	"github.com/fieldtalk/fieldtalk/conversations"
)

var _ conversations.DeliveryReader = (*DB)(nil)

// deliveryReadSQL reads a message with what a delivery attempt checks for
// it: the recipient's opt-out, the sending staff member, the sender
// number's Messaging Service. Every table is filtered by the tenant (the
// numbers are the shared reference table), so on Citus it routes to the
// tenant's shard. Four reads a delivery made one by one are one round trip.
const deliveryReadSQL = `SELECT ` + messageCols + `,
  EXISTS (SELECT 1 FROM opt_outs o WHERE o.tenant_id = ? AND o.address = m.to_address AND o.opted_out),
  st.id IS NOT NULL, COALESCE(st.name, ''), COALESCE(st.role, ''), st.created_at,
  COALESCE((SELECT n.messaging_service FROM business_numbers n WHERE n.number = m.from_address AND n.tenant_id = ?), '')
FROM messages m
LEFT JOIN staff st ON st.tenant_id = ? AND st.id = m.author_id AND m.author_type = 'staff'
WHERE m.tenant_id = ? AND m.id = ?`

// ReadForDelivery implements conversations.DeliveryReader.
func (s *DB) ReadForDelivery(ctx context.Context, tenant conversations.TenantID, id conversations.MessageID) (conversations.DeliveryRead, error) {
	r := newMessageRow()
	var d conversations.DeliveryRead
	var name, role string
	st := &d.Author
	dest := append(r.dest, &d.OptedOut, &d.AuthorFound, &name, &role, timeCol{&st.CreatedAt}, &d.MessagingService)
	t := string(tenant)
	if err := s.queryRow(ctx, deliveryReadSQL, t, t, t, t, string(id)).Scan(dest...); err != nil {
		return conversations.DeliveryRead{}, dbErr("read for delivery", err)
	}
	m, err := r.message(tenant)
	if err != nil {
		return conversations.DeliveryRead{}, dbErr("read for delivery", err)
	}
	d.Message = m
	if d.AuthorFound {
		st.Tenant, st.ID, st.Name, st.Role = tenant, m.Author, name, conversations.Role(role)
	}
	return d, nil
}
