package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// profileStep fetches a CPU profile of the server covering most of a step
// (its length less one second, in whole seconds) into cfg.profileDir/name,
// in the background. The returned function waits for it and reports where
// it went; without -pprof it does nothing.
func profileStep(ctx context.Context, cfg *config, name string) (wait func()) {
	if cfg.profileURL == "" {
		return func() {}
	}
	secs := max(int((cfg.step-time.Second)/time.Second), 1)
	path := filepath.Join(cfg.profileDir, name)
	done := make(chan error, 1)
	go func() { done <- fetchProfile(ctx, cfg.profileURL+"?seconds="+strconv.Itoa(secs), path) }()
	return func() {
		if err := <-done; err != nil {
			fmt.Fprintf(cfg.out, "profile %s: %v\n", name, err)
			return
		}
		fmt.Fprintf(cfg.out, "profile of %ds written to %s\n", secs, path)
	}
}

func fetchProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
