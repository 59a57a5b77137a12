package awssim

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmt "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSM Parameter Store parameters (Systems Manager API reference). Error
// codes: ParameterNotFound, ParameterAlreadyExists, ValidationException.
//
// Behaviour simulated:
//   - PutParameter without Overwrite on an existing name answers
//     ParameterAlreadyExists; with Overwrite it makes version n+1. Tags and
//     Overwrite together answer ValidationException ("Invalid request: tags
//     and overwrite can't be used together", PutParameter reference).
//   - A SecureString without KeyId uses the AWS managed key alias/aws/ssm.
//   - GetParameter of a SecureString without WithDecryption returns the
//     encrypted value, never the plain text.
//   - The ARN of /a/b is arn:aws:ssm:<region>:<account>:parameter/a/b; of a
//     name without a leading slash, parameter/<name>.

type ssmParam struct {
	name, value, typ, keyID string
	version                 int64
	tags                    map[string]string
	modified                time.Time
}

type ssmSim struct {
	c      *Cloud
	params map[string]*ssmParam // by name
}

func init() {
	register("SSM", func(c *Cloud) any { return &ssmSim{c: c, params: map[string]*ssmParam{}} })
}

func (s *ssmSim) inventory() []Resource {
	var out []Resource
	for _, n := range sortedKeys(s.params) {
		out = append(out, Resource{"SSM", "parameter", n, copyTags(s.params[n].tags)})
	}
	return out
}

func (s *ssmSim) arn(name string) string {
	return "arn:aws:ssm:" + s.c.Region + ":" + s.c.Account + ":parameter/" + strings.TrimPrefix(name, "/")
}

// byName accepts a name or an ARN (GetParameter and DeleteParameter take
// either for parameters of the account).
func (s *ssmSim) byName(id string) *ssmParam {
	if i := strings.Index(id, ":parameter/"); strings.HasPrefix(id, "arn:") && i >= 0 {
		rest := id[i+len(":parameter/"):]
		if p, ok := s.params["/"+rest]; ok {
			return p
		}
		return s.params[rest]
	}
	return s.params[id]
}

func ssmNotFound() error { return apiError("ParameterNotFound", "") }

func (s *ssmSim) PutParameter(_ context.Context, in *ssm.PutParameterInput) (*ssm.PutParameterOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.Name)
	if name == "" || in.Value == nil {
		return nil, apiError("ValidationException", "Name and Value are required")
	}
	if len(in.Tags) > 0 && aws.ToBool(in.Overwrite) {
		return nil, apiError("ValidationException", "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	p := s.params[name]
	if p != nil && !aws.ToBool(in.Overwrite) {
		return nil, apiError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	if p == nil {
		p = &ssmParam{name: name, tags: map[string]string{}}
		for _, t := range in.Tags {
			p.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		s.params[name] = p
	}
	p.version++
	p.value, p.modified = aws.ToString(in.Value), s.c.now()
	if in.Type != "" {
		p.typ = string(in.Type)
	}
	if p.typ == "" {
		p.typ = string(ssmt.ParameterTypeString)
	}
	p.keyID = ""
	if p.typ == string(ssmt.ParameterTypeSecureString) {
		p.keyID = "alias/aws/ssm"
		if in.KeyId != nil {
			p.keyID = aws.ToString(in.KeyId)
		}
	}
	return &ssm.PutParameterOutput{Version: p.version, Tier: ssmt.ParameterTierStandard}, nil
}

func (s *ssmSim) GetParameter(_ context.Context, in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	p := s.byName(aws.ToString(in.Name))
	if p == nil {
		return nil, ssmNotFound()
	}
	v := p.value
	if p.typ == string(ssmt.ParameterTypeSecureString) && !aws.ToBool(in.WithDecryption) {
		v = "AQICAH" + strings.Repeat("x", 40) // ciphertext, never the value
	}
	return &ssm.GetParameterOutput{Parameter: &ssmt.Parameter{Name: aws.String(p.name), ARN: aws.String(s.arn(p.name)),
		Type: ssmt.ParameterType(p.typ), Value: aws.String(v), Version: p.version, LastModifiedDate: aws.Time(p.modified)}}, nil
}

// DescribeParameters supports the ParameterFilters key Name with option
// Equals (the default), the only one wbo-deploy uses.
func (s *ssmSim) DescribeParameters(_ context.Context, in *ssm.DescribeParametersInput) (*ssm.DescribeParametersOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	out := &ssm.DescribeParametersOutput{}
	for _, n := range sortedKeys(s.params) {
		p := s.params[n]
		ok := true
		for _, f := range in.ParameterFilters {
			if aws.ToString(f.Key) != "Name" {
				return nil, apiError("ValidationException", "the simulated SSM supports only the Name filter")
			}
			if opt := aws.ToString(f.Option); opt != "" && opt != "Equals" {
				return nil, apiError("ValidationException", "the simulated SSM supports only the Equals option")
			}
			ok = ok && contains(f.Values, p.name)
		}
		if !ok {
			continue
		}
		md := ssmt.ParameterMetadata{Name: aws.String(p.name), ARN: aws.String(s.arn(p.name)), Type: ssmt.ParameterType(p.typ),
			Version: p.version, LastModifiedDate: aws.Time(p.modified), Tier: ssmt.ParameterTierStandard}
		if p.keyID != "" {
			md.KeyId = aws.String(p.keyID)
		}
		out.Parameters = append(out.Parameters, md)
	}
	return out, nil
}

func (s *ssmSim) DeleteParameter(_ context.Context, in *ssm.DeleteParameterInput) (*ssm.DeleteParameterOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	p := s.byName(aws.ToString(in.Name))
	if p == nil {
		return nil, ssmNotFound()
	}
	delete(s.params, p.name)
	return &ssm.DeleteParameterOutput{}, nil
}

// parameterValue resolves an ECS valueFrom naming a parameter (c.mu held).
func (s *ssmSim) parameterValue(arn string) (string, bool) {
	p := s.byName(arn)
	if p == nil {
		return "", false
	}
	return p.value, true
}
