package state

import (
	"fmt"
	"sync"
	"testing"
)

func TestConcurrentPutsAllPersisted(t *testing.T) {
	const n = 50
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("service-shard-%02d", i)
			if err := s.Put(Resource{Name: name, Kind: "ecs.service", ID: "id-" + name, Attrs: map[string]string{"i": fmt.Sprint(i)}}); err != nil {
				errs <- err
			}
			// Readers run alongside the writers (checked by -race).
			_ = s.All()
			_, _ = s.Get(name)
			_ = s.Serial()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s.Serial() != n {
		t.Fatalf("serial %d, want %d (one per write)", s.Serial(), n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	disk := readDisk(t, path)
	if disk.Serial != n || len(disk.Resources) != n {
		t.Fatalf("on disk: serial %d, %d resources; want %d", disk.Serial, len(disk.Resources), n)
	}
	s2 := mustOpen(t, path, Options{})
	for i := range n {
		name := fmt.Sprintf("service-shard-%02d", i)
		r, ok := s2.Get(name)
		if !ok || r.ID != "id-"+name || r.Attrs["i"] != fmt.Sprint(i) {
			t.Fatalf("%s not persisted: %+v", name, r)
		}
	}
}

func TestConcurrentPutAndRemove(t *testing.T) {
	path := statePath(t)
	s := mustOpen(t, path, Options{})
	for i := range 25 {
		mustPut(t, s, res(fmt.Sprintf("old-%02d", i), "k", "id"))
	}
	var wg sync.WaitGroup
	for i := range 25 {
		wg.Add(2)
		go func() { defer wg.Done(); _ = s.Remove(fmt.Sprintf("old-%02d", i)) }()
		go func() { defer wg.Done(); _ = s.Put(res(fmt.Sprintf("new-%02d", i), "k", "id")) }()
	}
	wg.Wait()
	disk := readDisk(t, path)
	if len(disk.Resources) != 25 || disk.Serial != 75 {
		t.Fatalf("on disk %d resources serial %d, want 25 and 75", len(disk.Resources), disk.Serial)
	}
	for _, r := range disk.Resources {
		if r.Name[:4] != "new-" {
			t.Fatalf("unexpected %s", r.Name)
		}
	}
}
