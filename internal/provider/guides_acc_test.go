package provider

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The simulator guide's commands are run as they are printed, in bash,
// with the real CLI, the simulator binary and curl, as a reader pastes
// them. The test changes only what it must to run beside other tests:
//
//   - it builds the provider and the simulator into bin/ of a folder that
//     stands for the checkout, instead of running make build there;
//   - it gives the simulator a free port instead of 127.0.0.1:8787, in
//     the commands that start it and in the endpoint they export;
//   - TMPDIR is a folder of the test, and terraform on PATH is the CLI
//     under test.

// guideBlock is one fenced block of a guide: its language and its text.
type guideBlock struct {
	lang, text string
}

// guideSection returns the fenced blocks of the section of a generated
// guide (docs/guides/name.md) that starts with the heading given, up to
// the next heading of the same level.
func guideSection(t *testing.T, name, heading string) []guideBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "guides", name+".md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("docs/guides/%s.md has no section %q", name, heading)
	}
	level := heading[:strings.IndexByte(heading, ' ')+1]
	section := doc[start+len(heading)+2:]
	if end := strings.Index(section, "\n"+level); end >= 0 {
		section = section[:end]
	}
	var blocks []guideBlock
	for _, m := range regexp.MustCompile("(?s)\n```([a-z]*)\n(.*?)\n```\n").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, guideBlock{lang: m[1], text: m[2]})
	}
	return blocks
}

// guideEnv builds what the guide's commands need and returns the folder
// that stands for the checkout, the environment to run bash in, and a free
// loopback port for the simulator.
func guideEnv(t *testing.T) (checkout string, env []string, port int) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH is not set (make testacc sets it)")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the guide's commands need %s, which this machine lacks", tool)
		}
	}
	dir := t.TempDir()
	checkout = filepath.Join(dir, "checkout")
	root := filepath.Join("..", "..")
	for pkg, out := range map[string]string{".": "terraform-provider-clouddc", "./cmd/clouddc-simulator": "clouddc-simulator"} {
		build := exec.CommandContext(t.Context(), "go", "build", "-o", filepath.Join(checkout, "bin", out), pkg) //nolint:gosec // G204: our own build
		build.Dir = root
		if o, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, o)
		}
	}
	path := filepath.Join(dir, "path")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{path, tmp} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(cli, filepath.Join(path, "terraform")); err != nil {
		t.Fatal(err)
	}
	env = append(os.Environ(), "PATH="+path+string(os.PathListSeparator)+os.Getenv("PATH"), "TMPDIR="+tmp,
		"CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE=", "TF_LOG=")
	return checkout, env, freePort(t)
}

func freePort(t *testing.T) int {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("listener address %v", ln.Addr())
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr.Port
}

// onPort moves the guide's simulator from 127.0.0.1:8787 to port.
func onPort(script string, port int) string {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	script = strings.ReplaceAll(script, "127.0.0.1:8787", addr)
	return strings.ReplaceAll(script, `"$SIMULATOR" `, `"$SIMULATOR" -listen `+addr+" ")
}

// runBash runs a script in dir and returns its combined output.
func runBash(t *testing.T, dir string, env []string, script string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script) //nolint:gosec // G204: the guide's own commands
	cmd.Dir, cmd.Env = dir, env
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestAccGuides_simulatorModuleTest runs the simulator guide's "A module
// test you can copy": the checkout's commands, then main.tf in a folder of
// its own, then the apply, the restart with the state file, the plan that
// must show no changes, and the destroy.
func TestAccGuides_simulatorModuleTest(t *testing.T) {
	checkout, env, port := guideEnv(t)
	blocks := guideSection(t, "simulator", "## A module test you can copy")
	if len(blocks) != 3 || blocks[0].lang != "shell" || blocks[1].lang != "terraform" || blocks[2].lang != "shell" {
		t.Fatalf("the section's blocks are %+v; the test knows a shell block, main.tf and a shell block", blocks)
	}
	setup := strings.Replace(blocks[0].text, "make build\n", "", 1)
	if setup == blocks[0].text {
		t.Fatal("the checkout's block no longer starts with make build; update the test")
	}
	module := filepath.Join(t.TempDir(), "module")
	writeFiles(t, mustMkdir(t, module), map[string]string{"main.tf": blocks[1].text + "\n"})
	script := setup + "\ncd " + module + "\n" + onPort(blocks[2].text, port)
	out, err := runBash(t, checkout, env, script)
	if err != nil {
		t.Fatalf("the guide's commands failed: %v\n%s", err, out)
	}
	for _, want := range []string{"Apply complete! Resources: 2 added", "No changes.", "Destroy complete! Resources: 2 destroyed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the guide's commands did not print %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(checkout, "bin", "dev.tfrc")); err != nil {
		t.Errorf("the CLI configuration is not under bin/, which git ignores: %v", err)
	}
}

// TestAccGuides_simulatorCurl runs the simulator guide's curl commands: the
// CreateInstance example, then every admin API example.
func TestAccGuides_simulatorCurl(t *testing.T) {
	checkout, env, port := guideEnv(t)
	start := fmt.Sprintf(`"$SIMULATOR" -listen 127.0.0.1:%d -admin-token s3cret -quiet &
export CLOUDDC_ENDPOINT=http://127.0.0.1:%d
export CLOUDDC_PROJECT_ID=0a1b2c3d4e5f60718293a4b5c6d7e8f9
export CLOUDDC_TOKEN=clouddc-simulator-token
until curl -s -o /dev/null "$CLOUDDC_ENDPOINT"; do sleep 0.2; done
`, port, port)
	env = append(env, "SIMULATOR="+filepath.Join(checkout, "bin", "clouddc-simulator"))

	create := guideSection(t, "simulator", "## Calling the API yourself")
	if len(create) != 1 || create[0].lang != "shell" {
		t.Fatalf("the section's blocks are %+v; the test knows one shell block", create)
	}
	out, err := runBash(t, checkout, env, start+create[0].text+"\nkill %1; wait\n")
	if err != nil || !regexp.MustCompile(`\{"instance_id":"[0-9a-f-]{36}"\}`).MatchString(out) || !strings.Contains(out, `"name":"curl-1"`) {
		t.Errorf("the CreateInstance example did not create and list curl-1 (%v):\n%s", err, out)
	}

	// Each admin example must be accepted (curl -f fails on an HTTP error).
	admin := guideSection(t, "simulator", "## Faults on demand: the admin API")
	var script strings.Builder
	script.WriteString("set -e\n" + start)
	n := 0
	for _, b := range admin {
		for _, line := range strings.Split(b.text, "\n") {
			switch {
			case strings.HasPrefix(line, "SIM=") || strings.HasPrefix(line, "H="):
				script.WriteString(onPort(line, port) + "\n")
			case strings.HasPrefix(line, "curl ") && !strings.Contains(line, "<"):
				n++
				fmt.Fprintf(&script, "echo %q\n%s\n", "+ "+line, strings.Replace(line, "curl ", "curl -f -sS -o /dev/null ", 1))
			}
		}
	}
	script.WriteString("kill %1; wait\n")
	if n < 20 {
		t.Fatalf("found %d admin examples; the guide has more", n)
	}
	if out, err := runBash(t, checkout, env, script.String()); err != nil {
		t.Errorf("an admin API example failed (%v); the last one tried is the last line:\n%s", err, out)
	}
}

func mustMkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}
