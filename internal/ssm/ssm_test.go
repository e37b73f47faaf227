package ssm

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// moto serves SSM on the same endpoint as SQS.
func client(t *testing.T) *awsssm.Client {
	e := testenv.Get(t)
	return awsssm.NewFromConfig(devstack.AWSConfig(), func(o *awsssm.Options) { o.BaseEndpoint = aws.String(e.SQSEndpoint) })
}

func put(t *testing.T, c *awsssm.Client, name, value string) {
	t.Helper()
	if _, err := c.PutParameter(context.Background(), &awsssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolveReadsEverySecretInOneCall(t *testing.T) {
	c := client(t)
	prefix := fmt.Sprintf("/test-%s/", t.Name())
	e := map[string]string{}
	var vars []string
	for i := range 7 {
		v := fmt.Sprintf("SECRET_%d", i)
		vars = append(vars, v)
		e[v+"_PARAM"] = prefix + v
		put(t, c, prefix+v, "value-"+v)
	}
	e["SECRET_3"] = "from-env"                  // a value in the environment wins
	e["SECRET_5_PARAM"] = prefix + "not-stored" // a name with no parameter
	vars = append(vars, "UNNAMED")              // neither value nor name
	got, err := Resolve(context.Background(), func() API { return c }, env(e), vars, "_PARAM")
	if err != nil {
		t.Fatal(err)
	}
	if got.Calls != 1 {
		t.Errorf("%d GetParameters calls, want 1", got.Calls)
	}
	get := got.Getenv(env(e))
	for _, v := range vars {
		want := "value-" + v
		switch v {
		case "SECRET_3":
			want = "from-env"
		case "SECRET_5", "UNNAMED":
			want = ""
		}
		if get(v) != want {
			t.Errorf("%s = %q, want %q", v, get(v), want)
		}
	}
	if _, fetched := got.Values["SECRET_3"]; fetched {
		t.Error("SECRET_3 was fetched although the environment sets it")
	}
	if !slices.Equal(got.Missing, []string{"SECRET_5"}) {
		t.Errorf("missing %v, want [SECRET_5]", got.Missing)
	}
}

func TestResolveChunksByTen(t *testing.T) {
	c := client(t)
	prefix := fmt.Sprintf("/test-%s/", t.Name())
	e := map[string]string{}
	var vars []string
	for i := range 12 {
		v := fmt.Sprintf("S%d", i)
		vars = append(vars, v)
		e[v+"_PARAM"] = prefix + v
		put(t, c, prefix+v, v+"!")
	}
	got, err := Resolve(context.Background(), func() API { return c }, env(e), vars, "_PARAM")
	if err != nil {
		t.Fatal(err)
	}
	if got.Calls != 2 || len(got.Values) != 12 || got.Values["S11"] != "S11!" {
		t.Errorf("calls %d, values %v", got.Calls, got.Values)
	}
}

// With every value in the environment (local runs, tests) no client is even
// built, so init costs nothing extra.
func TestResolveWithValuesInTheEnvironmentMakesNoCall(t *testing.T) {
	e := map[string]string{"A": "1", "A_PARAM": "/x/a", "B": "2"}
	got, err := Resolve(context.Background(), func() API { t.Fatal("client built"); return nil }, env(e), []string{"A", "B"}, "_PARAM")
	if err != nil || got.Calls != 0 || got.Getenv(env(e))("A") != "1" {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestResolveReportsAnUnreachableStore(t *testing.T) {
	c := awsssm.NewFromConfig(devstack.AWSConfig(), func(o *awsssm.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.RetryMaxAttempts = 1
	})
	_, err := Resolve(context.Background(), func() API { return c }, env(map[string]string{"A_PARAM": "/x/a"}), []string{"A"}, "_PARAM")
	if err == nil {
		t.Fatal("no error from an unreachable SSM")
	}
}
