package state

import (
	"fmt"
	"testing"
)

// BenchmarkPut measures one durable write (encode, temp file, fsync, rename,
// directory fsync) of a state the size of a full stack (~40 resources).
func BenchmarkPut(b *testing.B) {
	s := mustOpen(b, statePath(b), Options{})
	for i := range 40 {
		mustPut(b, s, Resource{Name: fmt.Sprintf("r-%02d", i), Kind: "ec2.subnet", ID: fmt.Sprintf("subnet-%017d", i),
			ARN: "arn:aws:ec2:eu-west-3:123456789012:subnet/x", Attrs: map[string]string{"cidr": "10.0.0.0/24", "az": "eu-west-3a"}})
	}
	for i := 0; b.Loop(); i++ {
		if err := s.Put(Resource{Name: "r-07", Kind: "ec2.subnet", ID: fmt.Sprintf("subnet-%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutParallel: many goroutines recording at once (writes serialize).
func BenchmarkPutParallel(b *testing.B) {
	s := mustOpen(b, statePath(b), Options{})
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if err := s.Put(res(fmt.Sprintf("r-%d", i%40), "k", "id")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOpenClose(b *testing.B) {
	path := statePath(b)
	s := mustOpen(b, path, Options{})
	for i := range 40 {
		mustPut(b, s, res(fmt.Sprintf("r-%02d", i), "k", "id"))
	}
	_ = s.Close()
	for b.Loop() {
		s, err := Open(path, testStack, Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Close()
	}
}
