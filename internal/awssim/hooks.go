package awssim

import "sort"

// Hooks for tests that play "something happened outside wbo-deploy".

// SetTargetsFailing marks every target of the target group named tgName as
// failing (or passing) its health checks, as when the app stops answering.
// It reports whether the group exists.
func (c *Cloud) SetTargetsFailing(tgName string, failing bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.services["Elastic Load Balancing v2"].(*elbv2Sim)
	if !ok {
		return false
	}
	arns := make([]string, 0)
	for arn := range s.tgs {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		tg := s.tgs[arn]
		if tg.name != tgName {
			continue
		}
		for _, t := range tg.targets {
			t.failing = failing
		}
		return true
	}
	return false
}

// RefuseCreateBucketTags makes CreateBucket answer MalformedXML when it
// carries tags, as S3 implementations that predate the feature do.
func (c *Cloud) RefuseCreateBucketTags() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s3().noCreateTags = true
}
