package awssim

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// kmsSim holds customer managed KMS keys and their aliases. wbo-deploy
// manages no key; tests create keys with CreateKMSKey (the user's doing)
// and the tool only describes them.
type kmsSim struct {
	c       *Cloud
	keys    map[string]*kmsKey // key ID -> key
	aliases map[string]string  // alias name ("alias/x") -> key ID
}

type kmsKey struct {
	id      string
	created time.Time
}

func init() {
	register("KMS", func(c *Cloud) any {
		return &kmsSim{c: c, keys: map[string]*kmsKey{}, aliases: map[string]string{}}
	})
}

func (s *kmsSim) keyARN(id string) string {
	return "arn:aws:kms:" + s.c.Region + ":" + s.c.Account + ":key/" + id
}

// CreateKMSKey makes a symmetric customer managed key with the given
// aliases ("alias/NAME") in the account, as its owner would, and returns
// the key ARN. An alias already in use is moved to the new key (as
// UpdateAlias would).
func (c *Cloud) CreateKMSKey(aliases ...string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.services["KMS"].(*kmsSim)
	c.seq++
	n := uint64(c.seq) * 0x9e3779b97f4a7c15
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(n>>32), uint16(n>>16), uint16(n)&0xfff, uint16(n>>20)&0xfff, n&0xffffffffffff)
	s.keys[id] = &kmsKey{id: id, created: c.now().UTC()}
	for _, a := range aliases {
		s.aliases[a] = id
	}
	return s.keyARN(id)
}

// DescribeKey takes a key ID, key ARN, alias name or alias ARN ("To specify
// a KMS key, use its key ID, key ARN, alias name, or alias ARN. When using
// an alias name, prefix it with "alias/"", KMS API reference, DescribeKey).
// An unknown key or alias answers NotFoundException, a malformed ARN
// InvalidArnException (same page, Errors).
func (s *kmsSim) DescribeKey(_ context.Context, in *kms.DescribeKeyInput) (*kms.DescribeKeyOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	ref := aws.ToString(in.KeyId)
	id, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	k := s.keys[id]
	return &kms.DescribeKeyOutput{KeyMetadata: &kmstypes.KeyMetadata{
		KeyId: aws.String(k.id), Arn: aws.String(s.keyARN(k.id)), AWSAccountId: aws.String(s.c.Account),
		CreationDate: aws.Time(k.created), Enabled: true, KeyState: kmstypes.KeyStateEnabled,
		KeyManager: kmstypes.KeyManagerTypeCustomer, KeySpec: kmstypes.KeySpecSymmetricDefault,
		KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt, Origin: kmstypes.OriginTypeAwsKms,
		MultiRegion: aws.Bool(false),
	}}, nil
}

// resolve turns a key reference into a key ID (c.mu held).
func (s *kmsSim) resolve(ref string) (string, error) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		// arn:<partition>:kms:<region>:<account>:key/<id> | alias/<name>
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" || (!strings.HasPrefix(parts[5], "key/") && !strings.HasPrefix(parts[5], "alias/")) {
			return "", apiError("InvalidArnException", "ARN %s is not a valid KMS key or alias ARN", ref)
		}
		if parts[3] != s.c.Region || parts[4] != s.c.Account {
			return "", apiError("NotFoundException", "%s does not exist", ref)
		}
		name = strings.TrimPrefix(parts[5], "key/")
	}
	if strings.HasPrefix(name, "alias/") {
		id, ok := s.aliases[name]
		if !ok {
			return "", apiError("NotFoundException", "Alias %s is not found.", s.aliasARN(name))
		}
		return id, nil
	}
	if _, ok := s.keys[name]; !ok {
		return "", apiError("NotFoundException", "Key '%s' does not exist", s.keyARN(name))
	}
	return name, nil
}

func (s *kmsSim) aliasARN(name string) string {
	return "arn:aws:kms:" + s.c.Region + ":" + s.c.Account + ":" + name
}

// inventory lists the keys: none is the stack's (they carry no stack tag),
// but a leak check sees everything the account holds.
func (s *kmsSim) inventory() []Resource {
	ids := make([]string, 0, len(s.keys))
	for id := range s.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]Resource, 0, len(ids))
	for _, id := range ids {
		out = append(out, Resource{Service: "KMS", Kind: "kms.key", ID: id, Tags: map[string]string{}})
	}
	return out
}
