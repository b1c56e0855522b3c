package host

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// Demo is the demo business the example server starts with, so the API can
// be tried with curl: its staff, each with a bearer token, a number, and a
// job with a customer. It is the example's Authenticator; a host drops the
// module and provides its own.
//
// The tokens are stable for a database: each is an HMAC of the staff id
// under a secret made up once and kept in the database (DemoSecret), so a
// restart, or a second instance on the same database, accepts the tokens a
// terminal exported earlier. A new database makes new tokens.
type Demo struct {
	Tenant conversations.TenantID
	Name   string
	Job    conversations.JobID
	// Customer is the job's customer.
	Customer conversations.Contact
	Staff    []DemoStaff
	*Tokens
}

// DemoStaff is one member of the demo staff and their token.
type DemoStaff struct {
	conversations.Staff
	Token string
	About string // what they see, for the banner
}

// demoJobTitle is the demo job's title in the CRM.
const demoJobTitle = "Water heater replacement"

// NewDemo makes up the demo business, with the tokens db's demo secret
// gives (see DemoSecret).
func NewDemo(db *store.DB) (*Demo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	secret, err := DemoSecret(ctx, db)
	if err != nil {
		return nil, err
	}
	return newDemo(secret), nil
}

// demoSecretTable keeps the example's own secrets; it is the example's,
// not the library's, so it is made here rather than by a migration.
const demoSecretTable = "fieldtalk_example_secrets"

// DemoSecret returns the secret the demo tokens of db derive from, making
// it up on first use. Instances starting together agree on one: the first
// insert wins and everyone reads it back.
func DemoSecret(ctx context.Context, db *store.DB) ([]byte, error) {
	b := db.Bun()
	if _, err := b.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+demoSecretTable+" (name TEXT PRIMARY KEY, value TEXT NOT NULL)"); err != nil {
		return nil, fmt.Errorf("demo: secret table: %w", err)
	}
	var fresh [32]byte
	_, _ = rand.Read(fresh[:])
	if _, err := b.ExecContext(ctx, "INSERT INTO "+demoSecretTable+" (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
		"demo_tokens", hex.EncodeToString(fresh[:])); err != nil {
		return nil, fmt.Errorf("demo: secret: %w", err)
	}
	var v string
	if err := b.QueryRowContext(ctx, "SELECT value FROM "+demoSecretTable+" WHERE name = ?", "demo_tokens").Scan(&v); err != nil {
		return nil, fmt.Errorf("demo: secret: %w", err)
	}
	return hex.DecodeString(v)
}

func newDemo(secret []byte) *Demo {
	d := &Demo{
		Tenant: "acme-plumbing", Name: "Acme Plumbing", Job: "J-1042",
		Customer: conversations.Contact{Name: "Pat Lee", Phone: "+15005550999", Email: "pat@example.com", Ref: "C-77"},
	}
	tokens := map[string]conversations.Viewer{}
	for _, s := range []struct {
		id, name string
		role     conversations.Role
		about    string
	}{
		{"dana", "Dana Reyes", conversations.RoleDispatcher, "dispatcher: sees every customer thread"},
		{"tom", "Tom Becker", conversations.RoleTechnician, "technician on job J-1042 (Pat Lee, +15005550999)"},
		{"tara", "Tara Singh", conversations.RoleTechnician, "technician on no job: sees only her own threads"},
	} {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte("demo token for " + s.id))
		st := DemoStaff{
			Staff: conversations.Staff{Tenant: d.Tenant, ID: conversations.StaffID(s.id), Name: s.name, Role: s.role},
			Token: "demo_" + s.id + "_" + hex.EncodeToString(mac.Sum(nil)[:16]), About: s.about,
		}
		d.Staff = append(d.Staff, st)
		tokens[st.Token] = st.Viewer()
	}
	d.Tokens = NewTokens(tokens)
	return d
}

// Token returns the token of staff member id ("" when there is none).
func (d *Demo) Token(id conversations.StaffID) string {
	for _, s := range d.Staff {
		if s.ID == id {
			return s.Token
		}
	}
	return ""
}

// seedDemo puts the demo business in once the schema is up (again at every
// start: every write is an upsert) and prints the banner.
func seedDemo(lc fx.Lifecycle, d *Demo, cfg Config, svc *conversations.Service, db *store.DB, ob *outbox.Outbox, srv *Server, log *slog.Logger) {
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
		if err := d.seed(ctx, cfg, svc, db); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		// The pace lives in the database; setting it at every start makes
		// the configuration what holds (0 removes it).
		if err := ob.SetPace(ctx, d.Tenant, cfg.SMSNumber, cfg.SMSPerSecond); err != nil {
			return fmt.Errorf("demo: pace: %w", err)
		}
		log.Info("demo business ready", slog.String("tenant", string(d.Tenant)), slog.String("number", cfg.SMSNumber))
		d.banner(cfg, srv)
		return nil
	}})
}

func (d *Demo) seed(ctx context.Context, cfg Config, svc *conversations.Service, db *store.DB) error {
	if err := svc.PutSettings(ctx, conversations.Settings{Tenant: d.Tenant, Name: d.Name}); err != nil {
		return err
	}
	for _, s := range d.Staff {
		if err := svc.PutStaff(ctx, s.Staff); err != nil {
			return err
		}
	}
	if err := svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: d.Tenant, Number: cfg.SMSNumber, Default: true}); err != nil {
		return err
	}
	if cfg.EmailFrom != "" {
		if err := svc.ProvisionNumber(ctx, conversations.BusinessNumber{
			Tenant: d.Tenant, Number: cfg.EmailFrom, Channel: conversations.ChannelEmail, Default: true,
		}); err != nil {
			return err
		}
	}
	window := time.Now().UTC().Truncate(time.Hour).Add(2 * time.Hour)
	if err := db.PutJob(ctx, conversations.JobContext{
		Tenant: d.Tenant, ID: d.Job, Title: demoJobTitle, Status: "scheduled",
		WindowStart: window, WindowEnd: window.Add(2 * time.Hour), Address: "12 Elm St",
		Technician: "Tom", Business: d.Name, Customer: d.Customer,
	}); err != nil {
		return err
	}
	if err := svc.Assign(ctx, d.Tenant, d.Job, "tom"); err != nil {
		return err
	}
	// The job's conversation with its customer, linked to the job, so that
	// what the customer texts reaches the technician assigned to it.
	_, err := svc.JobThread(ctx, d.Staff[0].Viewer(), d.Job)
	return err
}

// banner prints how to try the API.
func (d *Demo) banner(cfg Config, srv *Server) {
	var b strings.Builder
	base := srv.URL()
	fmt.Fprintf(&b, "\nfieldtalk example server on %s (public URL %s)\n", base, cfg.PublicURL)
	fmt.Fprintf(&b, "Demo business %q (tenant %s), SMS number %s.\n", d.Name, d.Tenant, cfg.SMSNumber)
	fmt.Fprintf(&b, "Bearer tokens for this database, the same at every start (paste into a shell):\n")
	for _, s := range d.Staff {
		fmt.Fprintf(&b, "  export %s=%s   # %s, %s\n", strings.ToUpper(string(s.ID)), s.Token, s.Name, s.About)
	}
	if cfg.hookSecretGenerated {
		fmt.Fprintf(&b, "Receptionist and workflow hooks are signed with this run's FIELDTALK_HOOK_SECRET=%s\n", cfg.HookSecret)
	}
	fmt.Fprintf(&b, "The Conversations app: open %s/ and pick a person.\n", base)
	fmt.Fprintf(&b, "Try:\n")
	if srv.Serves(consoleInboundPattern) {
		fmt.Fprintf(&b, "  curl -s %s/dev/sms -d '{\"from\":\"%s\",\"body\":\"Hi, when will the tech get here?\"}'\n", base, d.Customer.Phone)
	}
	fmt.Fprintf(&b, "  curl -s %s/v1/inbox -H \"Authorization: Bearer $TOM\"\n", base)
	fmt.Fprintf(&b, "  curl -s %s/v1/badge -H \"Authorization: Bearer $TOM\"\n", base)
	fmt.Fprintf(&b, "  curl -sN %s/v1/stream -H \"Authorization: Bearer $TOM\"   # live events\n\n", base)
	fmt.Fprint(cfg.Stdout, b.String())
}
