package main

import (
	"encoding/json"
	"fmt"
	"sort"
)

// rosterDiff compares a presence channel's roster as the HTTP API returned
// it (GET /apps/{id}/channels/{c}/users) with the user ids expected in it.
// It returns the ids missing from the answer, the ids it lists that are not
// expected, and the ids it lists more than once, each sorted.
func rosterDiff(body []byte, want map[string]bool) (missing, extra, dup []string, err error) {
	var r struct {
		Users []struct {
			ID json.RawMessage `json:"id"`
		} `json:"users"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, nil, nil, fmt.Errorf("roster %.200q: %w", body, err)
	}
	seen := make(map[string]bool, len(r.Users))
	for _, u := range r.Users {
		// Ids are strings; a server may also echo a number.
		var id string
		if json.Unmarshal(u.ID, &id) != nil {
			id = string(u.ID)
		}
		switch {
		case seen[id]:
			dup = append(dup, id)
		case !want[id]:
			extra = append(extra, id)
		}
		seen[id] = true
	}
	for id := range want {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(dup)
	return missing, extra, dup, nil
}
