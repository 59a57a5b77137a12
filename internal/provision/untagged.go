package provision

// untagged.go: kinds whose state record has no tagged AWS resource of its
// own, so a check that pairs state records with the account's
// wbo-deploy:stack-tagged resources must leave them out:
//   - "ecs.reshard", the re-shard gate, is no AWS resource at all;
//   - "elbv2.routing-rules" is a listener's set of board rules, tagged
//     wbo-deploy:rules = "<stack>/<node>" rather than with the stack tag (one
//     record, many rules; see routing.go).

// untaggedKind is implemented by such kinds.
type untaggedKind interface{ untagged() }

func (reshardKind) untagged()           {}
func (routingRulesKind) untagged()      {}
func (dnsZoneKind) untagged()           {}
func (certificateIssuedKind) untagged() {}
func (dnsRecordKind) untagged()         {}

// Untagged reports whether records of kind have no wbo-deploy:stack-tagged
// AWS resource of their own.
func Untagged(kind string) bool {
	k, ok := KindOf(kind)
	if !ok {
		return false
	}
	_, yes := k.(untaggedKind)
	return yes
}
