package host_test

import (
	"errors"
	"flag"
	"log/slog"
	"testing"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfig(t *testing.T) {
	t.Run("defaults need nothing", func(t *testing.T) {
		c, err := host.LoadConfig(nil, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Addr != host.DefaultAddr || c.Database != host.DefaultDatabase || c.SMSNumber != host.DefaultSMSNumber ||
			c.PublicURL != "http://"+host.DefaultAddr || c.LogLevel != slog.LevelInfo || c.LogJSON || len(c.HookSecret) < 32 {
			t.Fatalf("defaults = %+v", c)
		}
		if c.Twilio.AccountSID != "" || c.SendGrid.APIKey != "" || c.Model.Model != "" {
			t.Fatalf("no adapter is configured by default: %+v", c)
		}
	})
	t.Run("environment, and flags over it", func(t *testing.T) {
		c, err := host.LoadConfig([]string{"-addr", ":9090", "-log-format", "json"}, env(map[string]string{
			"FIELDTALK_ADDR": "127.0.0.1:1", "FIELDTALK_DATABASE_URL": "postgres://db/ft", "FIELDTALK_LOG_LEVEL": "debug",
			"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": "tok",
			"FIELDTALK_HOOK_SECRET": "s", "FIELDTALK_MODEL": "gpt-4o-mini", "FIELDTALK_MODEL_API_KEY": "k",
			"FIELDTALK_SMS_PER_SECOND": "1.5",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Addr != ":9090" || c.PublicURL != "http://localhost:9090" || c.Database != "postgres://db/ft" ||
			c.LogLevel != slog.LevelDebug || !c.LogJSON || c.Twilio.AuthToken != "tok" || c.HookSecret != "s" ||
			c.Model.Model != "gpt-4o-mini" || c.Model.APIKey != "k" || c.SMSPerSecond != 1.5 {
			t.Fatalf("config = %+v", c)
		}
	})
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string // the setting the error names
	}{
		"secret as a flag":         {args: []string{"-twilio-auth-token", "x"}, want: "flags"},
		"stray argument":           {args: []string{"serve"}, want: "flags"},
		"bad public URL":           {env: map[string]string{"FIELDTALK_PUBLIC_URL": "api.example.com"}, want: "FIELDTALK_PUBLIC_URL"},
		"bad listen address":       {env: map[string]string{"FIELDTALK_ADDR": "8080"}, want: "FIELDTALK_ADDR"},
		"bad SMS number":           {env: map[string]string{"FIELDTALK_SMS_NUMBER": "555-0100"}, want: "FIELDTALK_SMS_NUMBER"},
		"Twilio without its token": {env: map[string]string{"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000"}, want: "TWILIO_AUTH_TOKEN"},
		"webhook key alone":        {env: map[string]string{"SENDGRID_WEBHOOK_PUBLIC_KEY": "k"}, want: "SENDGRID_API_KEY"},
		"sender without SendGrid":  {env: map[string]string{"FIELDTALK_EMAIL_FROM": "a@b.example"}, want: "SENDGRID_API_KEY"},
		"bad log level":            {env: map[string]string{"FIELDTALK_LOG_LEVEL": "loud"}, want: "FIELDTALK_LOG_LEVEL"},
		"bad log format":           {args: []string{"-log-format", "xml"}, want: "FIELDTALK_LOG_FORMAT"},
		"SMS pace not a number":    {env: map[string]string{"FIELDTALK_SMS_PER_SECOND": "fast"}, want: "FIELDTALK_SMS_PER_SECOND"},
		"negative SMS pace":        {args: []string{"-sms-per-second", "-1"}, want: "FIELDTALK_SMS_PER_SECOND"},
		"SMS pace NaN":             {env: map[string]string{"FIELDTALK_SMS_PER_SECOND": "NaN"}, want: "FIELDTALK_SMS_PER_SECOND"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := host.LoadConfig(tc.args, env(tc.env))
			var ce *host.ConfigError
			if !errors.As(err, &ce) || ce.Setting != tc.want {
				t.Fatalf("err = %v, want a *host.ConfigError naming %s", err, tc.want)
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		if _, err := host.LoadConfig([]string{"-help"}, env(nil)); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("-help: err = %v, want flag.ErrHelp for main to print the usage", err)
		}
	})
}
