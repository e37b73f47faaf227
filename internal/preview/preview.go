// Package preview renders every message kind on every channel for one shop's
// settings, as dispatch would send them, into a folder with an index page
// (make preview): the HTML and text parts and the raw MIME of each email, the
// text of each SMS.
package preview

import (
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dispatch"
	"github.com/aftercare/aftercare/internal/ses"
	"github.com/aftercare/aftercare/internal/sns"
)

// Entry is one rendered kind and channel.
type Entry struct {
	Kind     aftercare.Kind
	Channel  aftercare.Channel
	Category aftercare.Category
	Subject  string
	Files    map[string]string // label -> file name in the folder
}

// UnsubscribeBase is where preview links point (the local API).
const UnsubscribeBase = "http://127.0.0.1:3000"

// Sample is the message, customer and order a preview renders.
func Sample(kind aftercare.Kind, shop string, now time.Time) (*aftercare.Message, *aftercare.Customer, *aftercare.Order) {
	c := &aftercare.Customer{Shop: shop, ID: "115310627314723954", Email: "ada@example.org", Phone: "+15550100123",
		FirstName: "Ada", LastName: "Lovelace"}
	o := &aftercare.Order{Shop: shop, ID: "820982911946154508", Name: "#1001", CustomerID: c.ID, Seen: true,
		LineItems: []aftercare.LineItem{{ID: "1", Title: "Stoneware pour-over set", Quantity: 1}, {ID: "2", Title: "Single-origin beans, 250 g", Quantity: 2}}}
	m := &aftercare.Message{Kind: kind, Shop: shop, CustomerID: c.ID, OrderID: o.ID, Carrier: "UPS", Tracking: "1Z999AA10123456784",
		TrackingURL: "https://www.ups.com/track?tracknum=1Z999AA10123456784", EstimatedDelivery: now.Add(72 * time.Hour)}
	switch kind {
	case aftercare.KindSupportTask:
		m.Exception, m.Detail = aftercare.ExceptionDamaged, "DAMAGED - CONTENTS INSPECTED"
	case aftercare.KindExceptionResolved:
		m.Exception = aftercare.ExceptionDelay
	case aftercare.KindDataRequest:
		m.Export = json.RawMessage(`{"customer":{"id":"115310627314723954"},"orders":["#1001"]}`)
	case aftercare.KindWinBack, aftercare.KindLapseNote, aftercare.KindCheckIn:
		m.Carrier, m.Tracking, m.TrackingURL, m.EstimatedDelivery = "", "", "", time.Time{}
	}
	m.Stamp(now, "preview", string(kind))
	return m, c, o
}

// Write renders every kind and channel into dir and writes dir/index.html.
func Write(dir string, st aftercare.Settings, links dispatch.Links, now time.Time) ([]Entry, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []Entry
	for _, kind := range aftercare.Kinds {
		chans := []aftercare.Channel{aftercare.ChannelEmail, aftercare.ChannelSMS}
		if kind.Audience() == aftercare.AudienceTeam {
			chans = chans[:1] // team messages are email only
		}
		for _, ch := range chans {
			m, c, o := Sample(kind, "example.myshopify.com", now)
			unsub := ""
			if links != nil && kind.Category() == aftercare.Marketing {
				unsub = links.UnsubscribeURL(m.Shop, c.ID, ch)
			}
			r, err := dispatch.Render(m, c, o, st, ch, now, unsub)
			if err != nil {
				return nil, fmt.Errorf("preview %s %s: %w", kind, ch, err)
			}
			e := Entry{Kind: kind, Channel: ch, Category: kind.Category(), Subject: r.Subject, Files: map[string]string{}}
			base := string(kind) + "." + string(ch)
			files := map[string][]byte{base + ".json": r.JSON}
			if ch == aftercare.ChannelEmail {
				raw, err := ses.Raw(r, now)
				if err != nil {
					return nil, fmt.Errorf("preview %s: %w", kind, err)
				}
				files[base+".html"], files[base+".txt"], files[base+".eml"] = []byte(r.HTML), []byte(r.Text), raw
				e.Files["HTML"], e.Files["text"], e.Files["MIME"] = base+".html", base+".txt", base+".eml"
			} else {
				files[base+".txt"] = []byte(sns.Body(r))
				e.Files["text"] = base + ".txt"
				e.Subject = sns.Body(r)
			}
			e.Files["JSON"] = base + ".json"
			for name, b := range files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					return nil, err
				}
			}
			out = append(out, e)
		}
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return out, index.Execute(f, struct {
		Shop    string
		Entries []Entry
	}{st.ShopName, out})
}

var index = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>aftercare previews: {{.Shop}}</title></head>
<body style="font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:24px;">
<h1 style="font-size:20px">Every message of {{.Shop}}</h1>
<table cellpadding="6" style="border-collapse:collapse;">
<tr style="text-align:left;border-bottom:1px solid #ccc;"><th>kind</th><th>channel</th><th>category</th><th>subject / text</th><th>files</th></tr>
{{range .Entries}}<tr style="border-bottom:1px solid #eee;vertical-align:top;"><td>{{.Kind}}</td><td>{{.Channel}}</td><td>{{.Category}}</td><td style="max-width:520px">{{.Subject}}</td>
<td>{{range $label, $file := .Files}}<a href="{{$file}}">{{$label}}</a> {{end}}</td></tr>
{{end}}</table></body></html>
`))
