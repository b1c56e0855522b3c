package fieldtalk_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLibraryDependsOnTheOpenTelemetryAPIOnly: the library's packages (all
// but examples/ and the test helpers) may import OpenTelemetry's API, never
// its SDK, an exporter or a metrics client: the host chooses those.
func TestLibraryDependsOnTheOpenTelemetryAPIOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}",
		"./", "./conversations/...", "./policy/...", "./store", "./store/outbox", "./channel", "./channel/console",
		"./channel/inapp", "./channel/twilio", "./channel/sendgrid", "./notify", "./notify/inapp/...", "./notify/push",
		"./suggest", "./suggest/rules", "./suggest/llm").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	api := false
	for _, p := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(p, "go.opentelemetry.io/otel/sdk"), strings.HasPrefix(p, "go.opentelemetry.io/otel/exporters"),
			strings.HasPrefix(p, "github.com/prometheus/"), strings.HasPrefix(p, "go.opentelemetry.io/contrib"):
			t.Errorf("the library depends on %s", p)
		case p == "go.opentelemetry.io/otel/trace":
			api = true
		}
	}
	if !api {
		t.Error("go list found no OpenTelemetry API among the library's dependencies: the check looks at the wrong packages")
	}
}
