package fargate

import (
	"fmt"

	"github.com/wbo-deploy/wbo-deploy/internal/awssim"
)

// Policies evaluates a role's identity policies with the simulated cloud's
// IAM evaluator (awssim.Evaluate).
type Policies []*awssim.Policy

// ParsePolicies parses the documents of a role's policies.
func ParsePolicies(docs ...string) (Policies, error) {
	var out Policies
	for i, d := range docs {
		p, err := awssim.ParsePolicy(d)
		if err != nil {
			return nil, fmt.Errorf("policy %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Evaluate implements Evaluator.
func (p Policies) Evaluate(action, resource, principal string, ctx map[string][]string) Decision {
	switch awssim.Evaluate(p, awssim.AuthzRequest{Action: action, Resource: resource, Context: ctx, Principal: principal}) {
	case awssim.Allowed:
		return Allowed
	case awssim.ExplicitDeny:
		return ExplicitDeny
	}
	return ImplicitDeny
}
