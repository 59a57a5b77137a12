package provision

import (
	"context"
	"strings"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/config"
)

// kmsCalls counts the KMS calls the simulated account received.
func kmsCalls(r *rig) int {
	n := 0
	for _, c := range r.cloud.Calls() {
		if c.Service == "KMS" {
			n++
		}
	}
	return n
}

// storage.kms_key_id given as an alias name or alias ARN: the task role may
// use exactly the key the alias names (FSBP KMS.2), resolved with
// DescribeKey; the bucket's default encryption keeps the alias as given.
func TestTaskRoleResolvesKMSAlias(t *testing.T) {
	for _, key := range []string{"alias/wbo-boards", "arn:aws:kms:us-east-1:123456789012:alias/wbo-boards"} {
		c := config.Default()
		c.Storage.KMSKeyID = key
		r := newRig(t, &c)
		keyARN := r.cloud.CreateKMSKey("alias/wbo-boards")
		r.cloud.CreateKMSKey("alias/other") // another key of the account, not to be allowed
		if err := r.up(s3iamOnlyGraph(r.cfg)).Err(); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		b := boardBucketOf(r)
		want := `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"ListBoards","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + b + `","Condition":{"StringLike":{"s3:prefix":"boards/*"}}},` +
			`{"Sid":"ReadWriteBoards","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::` + b + `/boards/*"},` +
			`{"Sid":"LeaseHolderState","Effect":"Allow","Action":"ecs:DescribeTasks","Resource":"arn:aws:ecs:us-east-1:123456789012:task/wbo/*",` +
			`"Condition":{"ArnEquals":{"ecs:cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/wbo"}}},` +
			`{"Sid":"BoardsKey","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"` + keyARN + `",` +
			`"Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}]}`
		if got := rolePolicy(t, r, "wbo-task", "boards"); got != want {
			t.Fatalf("%s: task role policy\n got %s\nwant %s", key, got, want)
		}
		if !strings.HasPrefix(keyARN, "arn:aws:kms:us-east-1:123456789012:key/") || strings.HasSuffix(keyARN, "*") {
			t.Fatalf("the simulated key ARN %s is not a single key's ARN", keyARN)
		}
		e, done := r.engine(s3iamOnlyGraph(r.cfg))
		status := e.Status(context.Background(), e.Env.store.All())
		done()
		for _, s := range status {
			if s.Name == "bucket-boards" && s.Info["encryption"] != "SSE-KMS with key "+key+", bucket key on" {
				t.Fatalf("%s: board bucket encryption %q, want the alias as configured", key, s.Info["encryption"])
			}
		}
		// A second up resolves the alias again (a read) and changes nothing.
		r.cloud.ResetCalls()
		if err := r.up(s3iamOnlyGraph(r.cfg)).Err(); err != nil {
			t.Fatal(err)
		}
		if m := r.cloud.MutatingCalls(); len(m) != 0 {
			t.Fatalf("%s: second up made %v", key, m)
		}
		if n := kmsCalls(r); n != 1 {
			t.Fatalf("%s: second up made %d KMS calls, want 1 DescribeKey", key, n)
		}
	}
}

// The alias moved to another key by its owner: the next up follows it.
func TestTaskRoleFollowsRepointedAlias(t *testing.T) {
	c := config.Default()
	c.Storage.KMSKeyID = "alias/wbo-boards"
	r := newRig(t, &c)
	first := r.cloud.CreateKMSKey("alias/wbo-boards")
	g := s3iamOnlyGraph(r.cfg)
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	second := r.cloud.CreateKMSKey("alias/wbo-boards") // moves the alias
	r.cloud.ResetCalls()
	if err := r.up(g).Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.cloud.MutatingCalls(), ","); got != "IAM.PutRolePolicy" {
		t.Fatalf("following the alias made %s, want IAM.PutRolePolicy", got)
	}
	doc := rolePolicy(t, r, "wbo-task", "boards")
	if !strings.Contains(doc, `"Resource":"`+second+`"`) || strings.Contains(doc, first) {
		t.Fatalf("task role policy %s, want key %s only", doc, second)
	}
}

// An alias that does not exist is a clear error naming the field, and the
// task role is not created.
func TestTaskRoleUnknownKMSAlias(t *testing.T) {
	for _, key := range []string{"alias/missing", "arn:aws:kms:us-east-1:123456789012:alias/missing"} {
		c := config.Default()
		c.Storage.KMSKeyID = key
		r := newRig(t, &c)
		r.cloud.CreateKMSKey("alias/wbo-boards")
		err := r.up(s3iamOnlyGraph(r.cfg)).Err()
		if err == nil {
			t.Fatalf("%s: up succeeded with an unknown alias", key)
		}
		if msg := err.Error(); !strings.Contains(msg, "storage.kms_key_id") || !strings.Contains(msg, key) || !strings.Contains(msg, "no such KMS alias") {
			t.Fatalf("%s: error %q does not name storage.kms_key_id, the alias and the problem", key, msg)
		}
		for _, o := range r.owned() {
			if o == "role role-task" {
				t.Fatalf("%s: the task role was created despite the unknown alias", key)
			}
		}
	}
}

// plan without a state file is offline: no KMS call, even with an alias.
func TestOfflinePlanDoesNotResolveAlias(t *testing.T) {
	c := config.Default()
	c.Storage.KMSKeyID = "alias/wbo-boards"
	r := newRig(t, &c)
	r.cloud.CreateKMSKey("alias/wbo-boards")
	// Clients that reach the simulated account, so a call would be seen.
	cl := r.clients()
	r.cloud.ResetCalls()
	e := &Engine{Graph: s3iamOnlyGraph(r.cfg), Env: NewEnv(cl, r.cfg, nil, &Clock{Scale: r.scale}, nil)}
	res := e.Plan(context.Background(), true)
	if err := res.Err(); err != nil {
		t.Fatalf("offline plan: %v", err)
	}
	for _, n := range res.Nodes {
		if n.Name == "role-task" && n.Action != ActCreate {
			t.Fatalf("role-task planned as %v, want create", n.Action)
		}
	}
	if len(r.cloud.Calls()) != 0 {
		t.Fatalf("offline plan made calls: %v", r.cloud.Calls())
	}
}
