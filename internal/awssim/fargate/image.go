package fargate

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Image is what the runner knows of a container image: its configuration
// (ENTRYPOINT, CMD, USER, WORKDIR, ENV) and the files it adds to the
// stand-in root (this machine's /usr and /etc), bound read-only.
type Image struct {
	Entrypoint []string
	Cmd        []string
	User       string   // "" = root
	WorkingDir string   // "" = /
	Env        []string // NAME=value; PATH defaults to Docker's
	Files      map[string]string
}

// DebianAWSCLI is where Debian's awscli package installs the CLI; the
// stand-in root has this machine's /usr, so the sandbox sees it there.
const DebianAWSCLI = "/usr/bin/aws"

// AWSCLIImage models the official AWS CLI image
// (public.ecr.aws/aws-cli/aws-cli, github.com/aws/aws-cli docker/Dockerfile):
// WORKDIR /aws, ENTRYPOINT ["/usr/local/bin/aws"], no USER (root), no ENV.
// /usr/local/bin/aws is Debian's CLI behind a shim that adds --endpoint-url
// for the loopback S3 at endpoint (the one change to what the containers
// run: the real CLI would reach s3.<region>.amazonaws.com).
func AWSCLIImage(t testing.TB, endpoint string) Image {
	t.Helper()
	if _, err := os.Stat(DebianAWSCLI); err != nil {
		t.Fatalf("Debian's AWS CLI is not installed at %s (apt-get install -y awscli, or make tools as root): %v", DebianAWSCLI, err)
	}
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	shim := fmt.Sprintf("#!/bin/sh\nexec %s --endpoint-url '%s' \"$@\"\n", DebianAWSCLI, endpoint)
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(bin, "aws"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return Image{Entrypoint: []string{"/usr/local/bin/aws"}, WorkingDir: "/aws",
		Files: map[string]string{"/usr/local/bin": bin}}
}

// ScriptImage is an image whose entry point is a shell script (written to
// /opt/image/entrypoint.sh), run as user ("" = root): a stand-in for an
// application image such as WBO's.
func ScriptImage(t testing.TB, user, script string) Image {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "image")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "entrypoint.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "entrypoint.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return Image{Entrypoint: []string{"/bin/sh", "/opt/image/entrypoint.sh"}, User: user,
		Files: map[string]string{"/opt/image": dir}}
}
