package aftercare

import "time"

// Install is a shop's app installation: when the app was last connected and
// last removed. Shopify sends no install webhook, so InstalledAt comes from
// `aftercare connect`; UninstalledAt from app/uninstalled. Each only moves
// forward and the later of the two wins, so the marks can arrive in any order
// and any number of times. Uninstalling stops every message; the shop's data
// stays until shop/redact.
type Install struct {
	Shop          string    `json:"shop"`
	InstalledAt   time.Time `json:"installed_at,omitzero"`
	UninstalledAt time.Time `json:"uninstalled_at,omitzero"`
	Version       int64     `json:"version"`
}

// Uninstalled reports whether the app is removed from the shop now (a nil
// Install is a shop never marked either way: installed).
func (i *Install) Uninstalled() bool {
	return i != nil && !i.UninstalledAt.IsZero() && i.UninstalledAt.After(i.InstalledAt)
}

// MarkUninstalled records an app/uninstalled at at; it reports whether that
// changed anything (an older or repeated one does not).
func (i *Install) MarkUninstalled(at time.Time) bool {
	if at.IsZero() || !at.After(i.UninstalledAt) {
		return false
	}
	i.UninstalledAt = at.UTC()
	return true
}

// MarkInstalled records a (re)install at at; it reports whether that changed
// anything.
func (i *Install) MarkInstalled(at time.Time) bool {
	if at.IsZero() || !at.After(i.InstalledAt) {
		return false
	}
	i.InstalledAt = at.UTC()
	return true
}
