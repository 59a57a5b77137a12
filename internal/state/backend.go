package state

// backend is where one stack's state document and its lock live: the local
// file (localBackend) or an S3 object (s3Backend). The Store on top holds the
// document's schema, serial, account/region binding and checks; a backend
// only moves bytes, atomically, and holds the lock. Every method is called
// with the Store's mutex held, so a backend needs no locking of its own.
type backend interface {
	// where names the state for messages and errors (a path, s3://bucket/key).
	where() string
	// lock takes the run lock (a read-only run: shared, or a check that no
	// writer holds it). It returns the leftover holder of a lock it took
	// over, if any.
	lock(me Holder, readOnly bool) (*Holder, error)
	// unlock releases what lock took.
	unlock() error
	// read returns the document's bytes, or exists=false when there is none.
	// A backend remembers what it read, so that write and remove replace
	// exactly that version.
	read() (data []byte, exists bool, err error)
	// write replaces the document atomically (a reader sees the old or the
	// new one). A remote backend refuses (*ConflictError) when the document
	// is no longer the one it read or last wrote.
	write(data []byte) error
	// remove deletes the document (already gone is success).
	remove() error
	// retire takes the document out of use after a migration, keeping a
	// copy where the backend can; it says where.
	retire() (string, error)
	// cleanup runs once the exclusive lock is held (local: leftover
	// temporary files of a crashed writer).
	cleanup() error
}
