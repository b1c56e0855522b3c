package twiliotest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Post creates a message on s the way a bare hand-written client would
// (one form POST, no SDK), for baselines that measure what the Twilio
// channel adds. It returns the new message's sid.
func (s *Server) Post(ctx context.Context, client *http.Client, from, to, body string) (string, error) {
	endpoint := s.URL() + "/2010-04-01/Accounts/" + s.AccountSID() + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint,
		strings.NewReader(url.Values{"From": {from}, "To": {to}, "Body": {body}}.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(s.AccountSID(), s.AuthToken())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		SID string `json:"sid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("twiliotest: post: twilio answered %s: %v", resp.Status, err)
	}
	return out.SID, nil
}
