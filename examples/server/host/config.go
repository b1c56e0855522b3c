package host

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Config is everything the example host can be told. LoadConfig reads it
// from flags and the environment; tests and other examples fill it in.
// The zero value of an adapter's section leaves that adapter out and the
// embedded default in.
type Config struct {
	// Addr is where the HTTP server listens ("127.0.0.1:8080"; ":0" picks a port).
	Addr string
	// PublicURL is the scheme and host under which Twilio, SendGrid and
	// the receptionist reach this server (behind a proxy: the proxy's).
	// Twilio signs its webhooks over it, so it must be exactly what the
	// providers were configured with.
	PublicURL string
	// Database is a store.Open DSN: "sqlite:PATH" (the default) or
	// "postgres://...".
	Database string
	// Citus says Database is a Citus coordinator: the store is laid out on
	// the cluster (store.Distribute) at every start, after its migrations.
	Citus bool
	// HookSecret keys the HMAC that authenticates the receptionist and
	// workflow hooks (see SignHook).
	HookSecret string
	// SMSNumber is the demo business's SMS number (with Twilio: a number of
	// the account).
	SMSNumber string
	// SMSPerSecond paces the demo business's SMS number: at most this many
	// messages a second leave it, a technician's reply ahead of workflow
	// messages (outbox.Outbox.SetPace; a long code sends about 1 a second,
	// toll-free numbers and Messaging Services more). 0 leaves it unpaced.
	// It is set at every start, so the setting is what holds.
	SMSPerSecond float64
	// EmailFrom is the demo business's email sender (a SendGrid verified
	// sender); "" provisions none.
	EmailFrom string

	Twilio   TwilioConfig
	SendGrid SendGridConfig
	Model    ModelConfig
	Push     PushConfig

	// LogLevel and LogJSON shape the structured logs on stderr.
	LogLevel slog.Level
	LogJSON  bool
	// Stdout is where the console SMS channel prints what it would send and
	// where the demo banner goes; nil means os.Stdout.
	Stdout io.Writer
	// ShutdownTimeout bounds a graceful stop: in-flight requests and
	// deliveries get this long to finish (default 30s).
	ShutdownTimeout time.Duration
	// AllowHTTPMedia accepts http:// media URLs besides https:// (for a
	// development machine serving media without TLS; never in production).
	AllowHTTPMedia bool
	// PollInterval is how often the delivery queue looks for due jobs when
	// no notification wakes it (0: the outbox's default).
	PollInterval time.Duration

	hookSecretGenerated bool // HookSecret was made up at start: the banner prints it
}

// TwilioConfig turns on the Twilio SMS channel and its webhooks when
// AccountSID is set.
type TwilioConfig struct {
	AccountSID   string
	AuthToken    string // signs webhooks; authenticates REST calls without an API key
	APIKeySID    string // optional: REST calls with an API key instead
	APIKeySecret string
	BaseURL      string // "" is Twilio; a regional edge, or a twiliotest.Server in tests
}

// SendGridConfig turns on the email channel when APIKey is set, and the
// event webhook when WebhookPublicKey is set.
type SendGridConfig struct {
	APIKey           string
	WebhookPublicKey string
	BaseURL          string // "" is SendGrid; the EU region, or a sendgridtest.Server in tests
}

// ModelConfig turns on model-written suggestions, with the rules as the
// fallback, when Model is set.
type ModelConfig struct {
	BaseURL string // an OpenAI-compatible API root ("" is OpenAI)
	APIKey  string
	Model   string
}

// PushConfig turns on phone push: through Firebase Cloud Messaging when
// FCMCredentials (a service-account key file) is set, to the host's own
// push gateway when WebhookURL is set; both when both are.
type PushConfig struct {
	FCMCredentials string
	FCMBaseURL     string // "" is FCM; an emulator, or a pushtest.FCM in tests
	WebhookURL     string
	WebhookSecret  string // signs the gateway's requests (at least 16 bytes)
}

func (c TwilioConfig) enabled() bool   { return c.AccountSID != "" }
func (c SendGridConfig) enabled() bool { return c.APIKey != "" }
func (c ModelConfig) enabled() bool    { return c.Model != "" }
func (c PushConfig) fcm() bool         { return c.FCMCredentials != "" }
func (c PushConfig) webhook() bool     { return c.WebhookURL != "" }

// Defaults of LoadConfig.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultDatabase  = "sqlite:fieldtalk.db"
	DefaultSMSNumber = "+15005550006"
)

// Environment is the list of variables LoadConfig reads, with what each
// sets; secrets are read from the environment only, never from flags
// (which any user of the machine can see in the process list).
var Environment = [][2]string{
	{"FIELDTALK_ADDR", "listen address (-addr)"},
	{"FIELDTALK_PUBLIC_URL", "public URL the providers call back (-public-url)"},
	{"FIELDTALK_DATABASE_URL", "sqlite:PATH or postgres://... (-db)"},
	{"FIELDTALK_CITUS", "true: the database is a Citus coordinator; distribute the tables at start (-citus)"},
	{"FIELDTALK_SMS_NUMBER", "the demo business's SMS number (-sms-number)"},
	{"FIELDTALK_SMS_PER_SECOND", "pace of the demo business's SMS number, messages a second; 0 or unset: unpaced (-sms-per-second)"},
	{"FIELDTALK_EMAIL_FROM", "the demo business's email sender (-email-from)"},
	{"FIELDTALK_HOOK_SECRET", "HMAC key of the receptionist and workflow hooks (random when unset)"},
	{"TWILIO_ACCOUNT_SID", "turns on Twilio SMS"},
	{"TWILIO_AUTH_TOKEN", "Twilio auth token (webhook signatures)"},
	{"TWILIO_API_KEY_SID", "optional Twilio API key"},
	{"TWILIO_API_KEY_SECRET", "its secret"},
	{"FIELDTALK_TWILIO_BASE_URL", "Twilio REST base URL (-twilio-base-url)"},
	{"SENDGRID_API_KEY", "turns on SendGrid email"},
	{"SENDGRID_WEBHOOK_PUBLIC_KEY", "turns on the signed event webhook"},
	{"FIELDTALK_SENDGRID_BASE_URL", "SendGrid API base URL (-sendgrid-base-url)"},
	{"FIELDTALK_MODEL", "model name: turns on model suggestions (-model)"},
	{"FIELDTALK_MODEL_URL", "OpenAI-compatible API root (-model-url)"},
	{"FIELDTALK_MODEL_API_KEY", "the model endpoint's key"},
	{"FIELDTALK_FCM_CREDENTIALS", "FCM service-account key file: turns on FCM push (-fcm-credentials)"},
	{"FIELDTALK_FCM_BASE_URL", "FCM API base URL (-fcm-base-url)"},
	{"FIELDTALK_PUSH_WEBHOOK_URL", "your push gateway: turns on web-hook push (-push-webhook-url)"},
	{"FIELDTALK_PUSH_WEBHOOK_SECRET", "signs the push gateway's requests"},
	{"FIELDTALK_LOG_LEVEL", "debug, info, warn, error (-log-level)"},
	{"FIELDTALK_LOG_FORMAT", "text or json (-log-format)"},
	{"FIELDTALK_ALLOW_HTTP_MEDIA", "true: accept http:// media URLs, for development (-allow-http-media)"},
}

// LoadConfig reads a Config from args (without the program name) and the
// environment (getenv; os.Getenv in main). A flag wins over its variable.
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	var c Config
	var level, format, perSecond string
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Addr, "addr", env("FIELDTALK_ADDR", DefaultAddr), "listen address")
	fs.StringVar(&c.PublicURL, "public-url", env("FIELDTALK_PUBLIC_URL", ""), "public URL the providers call back (default http://ADDR)")
	fs.StringVar(&c.Database, "db", env("FIELDTALK_DATABASE_URL", DefaultDatabase), "database: sqlite:PATH or postgres://...")
	fs.BoolVar(&c.Citus, "citus", env("FIELDTALK_CITUS", "") == "true", "the database is a Citus coordinator: distribute the tables at start")
	fs.StringVar(&c.SMSNumber, "sms-number", env("FIELDTALK_SMS_NUMBER", DefaultSMSNumber), "the demo business's SMS number")
	fs.StringVar(&perSecond, "sms-per-second", env("FIELDTALK_SMS_PER_SECOND", "0"), "pace of the demo business's SMS number (messages a second; 0: unpaced)")
	fs.StringVar(&c.EmailFrom, "email-from", env("FIELDTALK_EMAIL_FROM", ""), "the demo business's email sender")
	fs.BoolVar(&c.AllowHTTPMedia, "allow-http-media", env("FIELDTALK_ALLOW_HTTP_MEDIA", "") == "true", "accept http:// media URLs (development only)")
	fs.StringVar(&c.Twilio.BaseURL, "twilio-base-url", env("FIELDTALK_TWILIO_BASE_URL", ""), "Twilio REST base URL")
	fs.StringVar(&c.SendGrid.BaseURL, "sendgrid-base-url", env("FIELDTALK_SENDGRID_BASE_URL", ""), "SendGrid API base URL")
	fs.StringVar(&c.Model.Model, "model", env("FIELDTALK_MODEL", ""), "model name for suggestions")
	fs.StringVar(&c.Model.BaseURL, "model-url", env("FIELDTALK_MODEL_URL", ""), "OpenAI-compatible API root")
	fs.StringVar(&c.Push.FCMCredentials, "fcm-credentials", env("FIELDTALK_FCM_CREDENTIALS", ""), "FCM service-account key file")
	fs.StringVar(&c.Push.FCMBaseURL, "fcm-base-url", env("FIELDTALK_FCM_BASE_URL", ""), "FCM API base URL")
	fs.StringVar(&c.Push.WebhookURL, "push-webhook-url", env("FIELDTALK_PUSH_WEBHOOK_URL", ""), "your push gateway's URL")
	fs.StringVar(&level, "log-level", env("FIELDTALK_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.StringVar(&format, "log-format", env("FIELDTALK_LOG_FORMAT", "text"), "text or json")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return Config{}, err
	} else if err != nil {
		return Config{}, &ConfigError{Setting: "flags", Reason: err.Error()}
	}
	if fs.NArg() > 0 {
		return Config{}, &ConfigError{Setting: "flags", Reason: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	c.HookSecret = getenv("FIELDTALK_HOOK_SECRET")
	c.Twilio.AccountSID = getenv("TWILIO_ACCOUNT_SID")
	c.Twilio.AuthToken = getenv("TWILIO_AUTH_TOKEN")
	c.Twilio.APIKeySID = getenv("TWILIO_API_KEY_SID")
	c.Twilio.APIKeySecret = getenv("TWILIO_API_KEY_SECRET")
	c.SendGrid.APIKey = getenv("SENDGRID_API_KEY")
	c.SendGrid.WebhookPublicKey = getenv("SENDGRID_WEBHOOK_PUBLIC_KEY")
	c.Model.APIKey = getenv("FIELDTALK_MODEL_API_KEY")
	c.Push.WebhookSecret = getenv("FIELDTALK_PUSH_WEBHOOK_SECRET")
	if err := c.Log(level, format); err != nil {
		return Config{}, err
	}
	var err error
	if c.SMSPerSecond, err = strconv.ParseFloat(perSecond, 64); err != nil {
		return Config{}, &ConfigError{"FIELDTALK_SMS_PER_SECOND", fmt.Sprintf("%q: want a number of messages a second", perSecond)}
	}
	return c, c.Complete()
}

// ConfigError names the setting (an environment variable, or "flags")
// that is wrong and says why.
type ConfigError struct {
	Setting string
	Reason  string
}

func (e *ConfigError) Error() string { return "config: " + e.Setting + ": " + e.Reason }

// Log sets LogLevel and LogJSON from their names.
func (c *Config) Log(level, format string) error {
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return &ConfigError{"FIELDTALK_LOG_LEVEL", fmt.Sprintf("%q: want debug, info, warn or error", level)}
	}
	switch format {
	case "text", "":
		c.LogJSON = false
	case "json":
		c.LogJSON = true
	default:
		return &ConfigError{"FIELDTALK_LOG_FORMAT", fmt.Sprintf("%q: want text or json", format)}
	}
	return nil
}

// Complete fills in what c leaves empty and checks the rest: the public
// URL defaults to http://Addr, a missing hook secret is made up (and
// printed at start), and an adapter's section must be whole.
func (c *Config) Complete() error {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.SMSNumber == "" {
		c.SMSNumber = DefaultSMSNumber
	}
	if !(c.SMSPerSecond >= 0 && c.SMSPerSecond <= 1e6) {
		return &ConfigError{"FIELDTALK_SMS_PER_SECOND", fmt.Sprintf("%v: want 0 (unpaced) to 1,000,000", c.SMSPerSecond)}
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.PublicURL == "" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return &ConfigError{"FIELDTALK_ADDR", fmt.Sprintf("%q: %v", c.Addr, err)}
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return &ConfigError{"FIELDTALK_PUBLIC_URL", fmt.Sprintf("%q: want http(s)://host[:port][/prefix]", c.PublicURL)}
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if !conversations.ValidE164(c.SMSNumber) {
		return &ConfigError{"FIELDTALK_SMS_NUMBER", fmt.Sprintf("%q is not E.164 (+15005550006)", c.SMSNumber)}
	}
	if c.HookSecret == "" {
		var b [24]byte
		_, _ = rand.Read(b[:])
		c.HookSecret, c.hookSecretGenerated = hex.EncodeToString(b[:]), true
	}
	var errs []error
	if c.Twilio.enabled() && c.Twilio.AuthToken == "" {
		errs = append(errs, &ConfigError{"TWILIO_AUTH_TOKEN", "required with TWILIO_ACCOUNT_SID: Twilio signs webhooks with it"})
	}
	if c.SendGrid.WebhookPublicKey != "" && !c.SendGrid.enabled() {
		errs = append(errs, &ConfigError{"SENDGRID_API_KEY", "required with SENDGRID_WEBHOOK_PUBLIC_KEY: the webhook reports on mail this server sends"})
	}
	if c.EmailFrom != "" && !c.SendGrid.enabled() {
		errs = append(errs, &ConfigError{"SENDGRID_API_KEY", "required with FIELDTALK_EMAIL_FROM: email goes out through SendGrid"})
	}
	if c.Push.webhook() && len(c.Push.WebhookSecret) < 16 {
		errs = append(errs, &ConfigError{"FIELDTALK_PUSH_WEBHOOK_SECRET", "required with FIELDTALK_PUSH_WEBHOOK_URL, at least 16 bytes"})
	}
	return errors.Join(errs...)
}
