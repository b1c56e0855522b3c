package host_test

import (
	"fmt"
	"time"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// A receptionist signs its hand-off with the shared secret: the same
// signature as printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET".
func ExampleSignHook() {
	body := []byte(`{"business_number":"+15005550006","contact":{"phone":"+15005550777"},"summary":"Burst pipe","key":"call-981"}`)
	h := host.SignHook("s3cret", body, time.Unix(1764230400, 0))
	fmt.Println(host.HookTimestampHeader+":", h.Get(host.HookTimestampHeader))
	fmt.Println(host.HookSignatureHeader+":", h.Get(host.HookSignatureHeader))
	// Output:
	// X-Fieldtalk-Timestamp: 1764230400
	// X-Fieldtalk-Signature: v1=43a7204fa7013aa279ebe7e259ec0156083b99cc8e1ad582318019a45343ab77
}
