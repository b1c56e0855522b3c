package conversations

import "time"

// Kind says what a message is, independent of how it travels.
type Kind string

const (
	KindCustomerSMS Kind = "customer_sms" // to or from a customer by SMS/MMS
	KindInternal    Kind = "internal"     // among staff, in the app
	KindEscalation  Kind = "escalation"   // an AI receptionist handing a customer to staff
	KindWorkflow    Kind = "workflow"     // an automated message from the host's workflows
)

// Direction says which way a message went.
type Direction string

const (
	DirectionInbound  Direction = "inbound"  // from a customer (or the receptionist) to the business
	DirectionOutbound Direction = "outbound" // from the business (staff or system) to a customer or staff
)

// Channel names. A Channel adapter's Name is one of these (or the host's own).
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
	ChannelInApp = "inapp"
)

// AuthorType says who wrote a message.
type AuthorType string

const (
	AuthorStaff    AuthorType = "staff"
	AuthorCustomer AuthorType = "customer"
	AuthorSystem   AuthorType = "system"
)

// Source says where a message was composed.
type Source string

const (
	SourceMobile       Source = "mobile"
	SourceDesktop      Source = "desktop"
	SourceWorkflow     Source = "workflow"
	SourceReceptionist Source = "receptionist"
	SourceAPI          Source = "api"
	SourceProvider     Source = "provider" // arrived from a provider (an inbound SMS)
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	switch s {
	case SourceMobile, SourceDesktop, SourceWorkflow, SourceReceptionist, SourceAPI, SourceProvider:
		return true
	}
	return false
}

// Media is one attachment (MMS media, an email attachment link).
type Media struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"`
}

// Limits on what a message may carry.
const (
	MaxBodyRunes  = 1600 // the longest SMS body carriers concatenate (10 segments)
	MaxMediaItems = 10   // MMS allows 10 attachments
	MaxURLLength  = 2048
	MaxDetailsLen = 64 << 10 // bytes of Details
)

// Message is one message in a thread.
type Message struct {
	ID          MessageID
	Tenant      TenantID
	Thread      ThreadID
	Seq         int64 // dense per thread, from 1; history is paged by it
	Kind        Kind
	Direction   Direction
	Channel     string // ChannelSMS, ChannelEmail, ChannelInApp
	AuthorType  AuthorType
	Author      StaffID // set when AuthorType is AuthorStaff
	Body        string
	Subject     string // email
	Details     string // longer context kept with the message (an escalation's transcript)
	Urgent      bool   // needs attention now (an urgent escalation)
	Media       []Media
	Job         JobID // the job this message is about, if any
	Source      Source
	ClientID    string // the sending device's idempotency key
	From        string // the sending address (business number, customer phone, email)
	To          string // the receiving address
	CreatedAt   time.Time
	Status      Status
	SentAt      time.Time // zero until sent
	DeliveredAt time.Time // zero until delivered
	FailedAt    time.Time // zero unless undelivered or failed
	ProviderID  string    // the provider's message id (Twilio MessageSid, SendGrid X-Message-Id)
	ErrorCode   string    // the provider's error code on failure
	ErrorReason string    // plain-language reason on failure
}
