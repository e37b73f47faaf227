package ses_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/motoapi"
	"github.com/aftercare/aftercare/internal/ses"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestSendThroughMoto sends a marketing email through moto's SES v2 and reads
// the raw MIME moto recorded.
func TestSendThroughMoto(t *testing.T) {
	e := testenv.Get(t)
	ctx := context.Background()
	api := sesv2.NewFromConfig(devstack.AWSConfig(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(e.SQSEndpoint) })
	if _, err := api.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("ses-test.example")}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	p := &ses.Provider{API: api, Now: func() time.Time { return now }}
	m := &delivery.Message{
		ID: "win_back-sesmoto1", Kind: aftercare.KindWinBack, Category: aftercare.Marketing, Channel: aftercare.ChannelEmail,
		To: "ada@example.org", ToName: "Ada", From: "news@ses-test.example", FromName: "Ses Test Shop", ReplyTo: "help@ses-test.example",
		Subject: "We miss you", Text: "Hi Ada,\nCome back.", HTML: "<p>Hi Ada,</p><p>Come back.</p>",
		UnsubscribeURL: "http://127.0.0.1:3000/unsubscribe/abc",
	}
	if err := p.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	box, err := motoapi.Read(ctx, e.SQSEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, em := range box.Emails {
		if bytes.Contains(em.Raw, []byte(m.ID)) {
			raw = em.Raw
			if em.Source != "news@ses-test.example" {
				t.Errorf("source %q", em.Source)
			}
		}
	}
	if raw == nil {
		t.Fatalf("moto recorded no email %s (%d emails)", m.ID, len(box.Emails))
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("List-Unsubscribe") != "<"+m.UnsubscribeURL+">" || msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("RFC 8058 headers: %q %q", msg.Header.Get("List-Unsubscribe"), msg.Header.Get("List-Unsubscribe-Post"))
	}
	if from := msg.Header.Get("From"); !strings.Contains(from, "Ses Test Shop") || !strings.Contains(from, "<news@ses-test.example>") {
		t.Errorf("From %q", from)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	r := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		types = append(types, ct)
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v", types)
	}
}

// TestUnverifiedSenderIsPermanent: SES refusing the sender is not retried.
func TestUnverifiedSenderIsPermanent(t *testing.T) {
	e := testenv.Get(t)
	api := sesv2.NewFromConfig(devstack.AWSConfig(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(e.SQSEndpoint) })
	p := &ses.Provider{API: api}
	err := p.Deliver(context.Background(), &delivery.Message{ID: "order_shipped-x", Kind: aftercare.KindOrderShipped,
		Category: aftercare.Transactional, To: "ada@example.org", From: "nobody@unverified.example", Subject: "s", Text: "t", HTML: "<p>t</p>"})
	if aftercare.ErrorCode(err) != aftercare.EINVALID {
		t.Fatalf("unverified sender: %v (code %s), want EINVALID", err, aftercare.ErrorCode(err))
	}
}
