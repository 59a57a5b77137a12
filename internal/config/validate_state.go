package config

import "strings"

// maxStateKeyLen leaves room for the lock object, <key>.lock, within S3's
// 1,024-byte key limit ("The object key name ... up to 1,024 bytes long",
// S3 User Guide, "Naming Amazon S3 objects").
const maxStateKeyLen = 1024 - len(".lock")

func (c *Config) validateState(p *problems) {
	s := c.State
	switch s.Backend {
	case StateLocal, StateS3:
	case "":
		p.add("state.backend", "", "must not be empty; it is %q (the default) or %q", StateLocal, StateS3)
	default:
		p.add("state.backend", s.Backend, "%s is not a state backend; use %q (a file, the default) or %q (an S3 bucket a team shares)", show(s.Backend), StateLocal, StateS3)
	}
	// The bucket may be set with the local backend: `state migrate --to s3`
	// and `state init-backend` read it before the switch.
	if s.Bucket == "" {
		if s.Backend == StateS3 {
			p.add("state.bucket", "", "is required with state.backend: s3 (create the bucket with `wbo-deploy state init-backend`)")
		}
	} else if msg := BucketNameProblem(s.Bucket); msg != "" {
		p.add("state.bucket", s.Bucket, "%s is not a valid S3 bucket name: it %s", show(s.Bucket), msg)
	}
	if k := s.Key; k != "" {
		switch {
		case strings.HasPrefix(k, "/"):
			p.add("state.key", k, "%s must not start with \"/\" (S3 keys have no leading slash)", show(k))
		case strings.HasSuffix(k, "/"):
			p.add("state.key", k, "%s names a folder; give the object, e.g. %s", show(k), show(k+c.Stack+".json"))
		case strings.HasSuffix(k, ".lock"):
			p.add("state.key", k, "%s must not end in .lock (the lock object is <key>.lock)", show(k))
		case len(k) > maxStateKeyLen:
			p.add("state.key", k, "is %d bytes long; at most %d are allowed (S3 keys are at most 1024 bytes, with .lock added for the lock)", len(k), maxStateKeyLen)
		case strings.ContainsAny(k, "\\{}^%`[]\"<>~#|") || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			p.add("state.key", k, "%s has characters S3 recommends avoiding in keys; use letters, digits and !-_.*'()/", show(k))
		}
	}
	if s.Region != "" && !regionRE.MatchString(s.Region) {
		p.add("state.region", s.Region, "%s is not an AWS region code (like us-east-1)", show(s.Region))
	}
	if s.Profile != "" && strings.ContainsAny(s.Profile, " \t\n[]") {
		p.add("state.profile", s.Profile, "%s is not a profile name of the AWS config file", show(s.Profile))
	}
}
