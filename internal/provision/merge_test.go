package provision

import (
	"reflect"
	"testing"

	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

func TestMergeKeepsStateAddsNewAndRenamesClashes(t *testing.T) {
	st := []state.Resource{{Name: "vpc", Kind: "ec2.vpc", ID: "vpc-1"}}
	found := []state.Resource{
		{Name: "vpc", Kind: "ec2.vpc", ID: "vpc-1"}, // already in state
		{Name: "vpc", Kind: "ec2.vpc", ID: "vpc-2"}, // a duplicate
		{Name: "vpc", Kind: "ec2.vpc", ID: "vpc-3"}, // another one
		{Name: "igw", Kind: "ec2.internet-gateway", ID: "igw-1"},
		{Name: "igw", Kind: "ec2.internet-gateway", ID: "igw-1"}, // found twice
	}
	var names []string
	for _, r := range Merge(st, found) {
		names = append(names, r.Name+"="+r.ID)
	}
	want := []string{"vpc=vpc-1", "vpc#2=vpc-2", "vpc#3=vpc-3", "igw=igw-1"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
}
