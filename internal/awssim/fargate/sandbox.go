package fargate

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// dockerPath is the PATH Docker gives a container whose image sets none.
const dockerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

var (
	sandboxOnce sync.Once
	sandboxErr  error
	bwrapPath   string
)

// RequireSandbox skips the test when containers cannot be run here: no
// bwrap (Debian: apt-get install bubblewrap; `make tools` installs it as
// root), or not root. Root is needed because a Fargate container's root
// user changes file owners (restore gives the board directory to WBO's uid
// 1000), which the user namespace of an unprivileged user cannot do. CI
// runs as root on Debian, so there the tests run.
func RequireSandbox(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs containers in a bwrap sandbox; skipped with -short")
	}
	sandboxOnce.Do(func() {
		if os.Geteuid() != 0 {
			sandboxErr = fmt.Errorf("not root (uid %d): a container's root user must be able to chown on the task volumes", os.Geteuid())
			return
		}
		p, err := exec.LookPath("bwrap")
		if err != nil {
			sandboxErr = fmt.Errorf("bwrap is not installed (Debian: apt-get install bubblewrap, or make tools as root): %v", err)
			return
		}
		out, err := exec.Command(p, append(rootArgs(true), "--", "/bin/true")...).CombinedOutput()
		if err != nil {
			sandboxErr = fmt.Errorf("bwrap cannot create a sandbox here: %v: %s", err, out)
			return
		}
		bwrapPath = p
	})
	if sandboxErr != nil {
		t.Skipf("the Fargate-like container runner cannot run: %v", sandboxErr)
	}
}

// rootArgs are the bwrap arguments of an image root: an empty tmpfs with
// this machine's /usr and /etc read-only (the stand-in for the image's
// content), /bin, /lib, /lib64 and /sbin as on the host (symlinks into /usr
// on Debian), a minimal /dev and a /proc of the PID namespace. Mount points
// are made in it before it is remounted read-only (when readOnly).
func rootArgs(bare bool) []string {
	args := []string{"--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--new-session",
		"--tmpfs", "/", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--dev", "/dev", "--proc", "/proc"}
	for _, d := range []string{"bin", "lib", "lib32", "lib64", "libx32", "sbin"} {
		p := "/" + d
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err == nil {
				args = append(args, "--symlink", target, p)
			}
		case fi.IsDir():
			args = append(args, "--ro-bind", p, p)
		}
	}
	if bare {
		args = append(args, "--remount-ro", "/")
	}
	return args
}

// identity is the user a container runs as.
type identity struct {
	uid, gid int
	home     string
}

// resolveUser turns ContainerDefinition.user (or the image's USER) into
// ids, looking names up in /etc/passwd and /etc/group (the image's, which
// here is the host's). "" is root.
func resolveUser(user string) (identity, error) {
	if user == "" {
		user = "0"
	}
	u, g, hasGroup := strings.Cut(user, ":")
	id := identity{home: "/"}
	passwd := readColonFile("/etc/passwd")
	if n, err := strconv.Atoi(u); err == nil {
		id.uid = n
		for _, f := range passwd {
			if len(f) >= 6 && f[2] == u {
				id.gid, _ = strconv.Atoi(f[3])
				id.home = f[5]
				break
			}
		}
	} else {
		found := false
		for _, f := range passwd {
			if len(f) >= 6 && f[0] == u {
				id.uid, _ = strconv.Atoi(f[2])
				id.gid, _ = strconv.Atoi(f[3])
				id.home, found = f[5], true
				break
			}
		}
		if !found {
			return identity{}, fmt.Errorf("unable to find user %s: no matching entries in passwd file", u)
		}
	}
	if hasGroup {
		if n, err := strconv.Atoi(g); err == nil {
			id.gid = n
		} else {
			found := false
			for _, f := range readColonFile("/etc/group") {
				if len(f) >= 3 && f[0] == g {
					id.gid, _ = strconv.Atoi(f[2])
					found = true
					break
				}
			}
			if !found {
				return identity{}, fmt.Errorf("unable to find group %s: no matching entries in group file", g)
			}
		}
	}
	return id, nil
}

func readColonFile(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, strings.Split(sc.Text(), ":"))
	}
	return out
}

// mount is one bind of a container: a host directory at a container path.
type mount struct {
	host, path string
	readOnly   bool
}

// sandboxArgs builds the bwrap command line of one container process.
func sandboxArgs(img Image, mounts []mount, readOnlyRoot bool, hostname string, id identity, workDir string, argv []string, infoFD int) []string {
	args := rootArgs(false)
	args = append(args, "--hostname", hostname, "--as-pid-1")
	if infoFD > 0 {
		args = append(args, "--info-fd", strconv.Itoa(infoFD))
	}
	// bwrap makes missing parents of a mount point mode 0700; an image's
	// directories are 0755.
	made := map[string]bool{"/": true}
	parents := func(p string, self bool) {
		var chain []string
		for d := filepath.Dir(p); !made[d]; d = filepath.Dir(d) {
			chain = append([]string{d}, chain...)
			made[d] = true
		}
		if self && !made[p] {
			chain = append(chain, p)
			made[p] = true
		}
		for _, d := range chain {
			args = append(args, "--perms", "0755", "--dir", d)
		}
	}
	// The image's own files, read-only even with a writable root (they
	// are the host's).
	for _, p := range sortedKeys(img.Files) {
		parents(p, false)
		args = append(args, "--ro-bind", img.Files[p], p)
	}
	if workDir != "" && workDir != "/" {
		parents(workDir, true)
	}
	for _, m := range mounts {
		parents(m.path, false)
		flag := "--bind"
		if m.readOnly {
			flag = "--ro-bind"
		}
		args = append(args, flag, m.host, m.path)
	}
	if readOnlyRoot {
		args = append(args, "--remount-ro", "/")
	}
	if workDir != "" {
		args = append(args, "--chdir", workDir)
	}
	args = append(args, "--")
	if id.uid != 0 || id.gid != 0 {
		// The runtime switches user before it executes the entry point;
		// setpriv execs, so the entry point keeps PID 1.
		args = append(args, "/usr/bin/setpriv", "--reuid="+strconv.Itoa(id.uid), "--regid="+strconv.Itoa(id.gid), "--clear-groups", "--")
	}
	return append(args, argv...)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Parents sort before their children, so a file bound into a bound
	// directory stays visible.
	slices.Sort(keys)
	return keys
}

// newVolume makes the host directory of one task volume: empty, owned by
// root, mode 0755.
func newVolume(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return dir
}
