// Command outbox lists the emails and SMS the local stack sent through moto's
// SES and SNS (make outbox). With -raw it prints each email's full MIME.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"mime"
	"net/mail"
	"os"

	"github.com/aftercare/aftercare/internal/motoapi"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:9324", "the local moto server (make dev's SQS port)")
	raw := flag.Bool("raw", false, "print every email's raw MIME")
	flag.Parse()
	box, err := motoapi.Read(context.Background(), *endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "outbox:", err)
		os.Exit(1)
	}
	dec := new(mime.WordDecoder)
	for _, e := range box.Emails {
		m, err := mail.ReadMessage(bytes.NewReader(e.Raw))
		if err != nil {
			fmt.Printf("email %s: unreadable: %v\n", e.ID, err)
			continue
		}
		subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
		fmt.Printf("email  %-28s to %-30s %s\n", m.Header.Get("X-Aftercare-Message-Id"), m.Header.Get("To"), subject)
		if u := m.Header.Get("List-Unsubscribe"); u != "" {
			fmt.Printf("       unsubscribe %s\n", u)
		}
		if *raw {
			fmt.Printf("%s\n", e.Raw)
		}
	}
	for _, s := range box.SMS {
		fmt.Printf("sms    %-28s to %-30s %s\n", s.ID, s.Phone, s.Message)
	}
	fmt.Printf("outbox: %d emails, %d sms\n", len(box.Emails), len(box.SMS))
}
