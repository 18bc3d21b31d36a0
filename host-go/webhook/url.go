package webhook

import (
	"fmt"
	"net/url"
)

// CheckURL reports whether raw is a webhook URL: absolute http or https,
// with a host.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid webhook url %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid webhook url %q: expected http://host/path or https://host/path", raw)
	}
	return nil
}
