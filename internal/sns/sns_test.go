package sns_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/motoapi"
	"github.com/aftercare/aftercare/internal/sns"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type captured struct {
	in *awssns.PublishInput
}

func (c *captured) Publish(_ context.Context, in *awssns.PublishInput, _ ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	c.in = in
	return &awssns.PublishOutput{}, nil
}

func TestSMSTypeAndOptOut(t *testing.T) {
	for _, tc := range []struct {
		cat     aftercare.Category
		typ     string
		text    string
		optOuts int
	}{
		{aftercare.Marketing, "Promotional", "Hi Ada, come back.", 1},
		{aftercare.Marketing, "Promotional", "Hi Ada, come back. Reply STOP to opt out.", 1}, // never twice
		{aftercare.Transactional, "Transactional", "Your parcel is on its way.", 0},
	} {
		c := &captured{}
		p := &sns.Provider{API: c}
		if err := p.Deliver(context.Background(), &delivery.Message{ID: "x", Category: tc.cat, Channel: aftercare.ChannelSMS, To: "+15550001111", Text: tc.text}); err != nil {
			t.Fatal(err)
		}
		if got := *c.in.MessageAttributes["AWS.SNS.SMS.SMSType"].StringValue; got != tc.typ {
			t.Errorf("%s: SMSType %s, want %s", tc.cat, got, tc.typ)
		}
		if n := strings.Count(*c.in.Message, sns.OptOut); n != tc.optOuts {
			t.Errorf("%s: %q has %d opt-out lines, want %d", tc.cat, *c.in.Message, n, tc.optOuts)
		}
		if tc.optOuts > 0 && !strings.HasSuffix(*c.in.Message, sns.OptOut+".") {
			t.Errorf("marketing SMS does not end with the opt-out: %q", *c.in.Message)
		}
	}
}

func TestPublishThroughMoto(t *testing.T) {
	e := testenv.Get(t)
	ctx := context.Background()
	api := awssns.NewFromConfig(devstack.AWSConfig(), func(o *awssns.Options) { o.BaseEndpoint = aws.String(e.SQSEndpoint) })
	p := &sns.Provider{API: api}
	phone := "+15557654321"
	if err := p.Deliver(ctx, &delivery.Message{ID: "win_back-sms1", Kind: aftercare.KindWinBack, Category: aftercare.Marketing,
		Channel: aftercare.ChannelSMS, To: phone, Text: "Hi Ada, it's been a while."}); err != nil {
		t.Fatal(err)
	}
	box, err := motoapi.Read(ctx, e.SQSEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range box.SMS {
		if s.Phone == phone {
			if !strings.HasSuffix(s.Message, "Reply STOP to opt out.") {
				t.Fatalf("moto got %q", s.Message)
			}
			return
		}
	}
	t.Fatalf("moto recorded no SMS to %s: %+v", phone, box.SMS)
}

func TestNoPhoneIsPermanent(t *testing.T) {
	p := &sns.Provider{API: &captured{}}
	if err := p.Deliver(context.Background(), &delivery.Message{ID: "x"}); aftercare.ErrorCode(err) != aftercare.EINVALID {
		t.Fatalf("no phone: %v", err)
	}
}
