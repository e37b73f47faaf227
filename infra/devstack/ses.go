package devstack

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// VerifySenders makes moto's SES accept the default settings' sender and team
// domains, as a verified domain identity in SES would: without it every local
// email is refused ("not verified") and ends in the dead-letter queue.
func VerifySenders(ctx context.Context, motoEndpoint, settingsJSON string) ([]string, error) {
	st, err := aftercare.ParseSettings(aftercare.DefaultSettings(), []byte(settingsJSON))
	if err != nil {
		return nil, err
	}
	api := sesv2.NewFromConfig(AWSConfig(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(motoEndpoint) })
	var done []string
	for _, addr := range []string{st.Sender(), st.TeamAddress()} {
		a, err := mail.ParseAddress(addr)
		if err != nil {
			continue
		}
		domain := a.Address[strings.LastIndexByte(a.Address, '@')+1:]
		_, err = api.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)})
		var exists *sestypes.AlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return done, err
		}
		done = append(done, domain)
	}
	return done, nil
}
