package awssim

// Quirks: answers that AWS's API references allow but AWS itself does not
// give, which other endpoints (S3- or ELB-compatible services, emulators,
// other partitions) do give. A client reading what the reference documents
// must cope with them; tests turn them on to prove it.

// ReportSSLPolicyOnHTTPListeners makes DescribeListeners, CreateListener and
// ModifyListener report policy as the SslPolicy of HTTP listeners too. The
// ELBv2 API reference (Listener) documents SslPolicy for "[HTTPS or TLS
// listener]" only, and AWS leaves it out on HTTP listeners; some endpoints
// fill it in anyway. "" turns the quirk off.
func (c *Cloud) ReportSSLPolicyOnHTTPListeners(policy string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.elbv2().httpSSLPolicy = policy
}
