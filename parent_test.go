//go:build !windows

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
)

// testRoleEnv makes the test binary play one of the processes of
// TestProvider_exitsWithItsCLI instead of running tests (see TestMain).
const testRoleEnv = "CLOUDDC_TEST_ROLE"

// TestMain lets this test binary be the provider (its real main, as a
// release build runs it) or the CLI that starts it through go-plugin, as
// Terraform does.
func TestMain(m *testing.M) {
	switch os.Getenv(testRoleEnv) {
	case "provider":
		main()
		os.Exit(0)
	case "cli":
		os.Exit(fakeCLI())
	}
	os.Exit(m.Run())
}

// fakeCLI starts the provider the way Terraform does (go-plugin, protocol
// 6, Terraform's handshake cookie), prints the provider's process ID, and
// then waits to be killed, as a CLI that crashes mid-apply is: without
// telling the provider. The provider inherits fd 3 (the test's "alive"
// pipe), so the test sees it end.
func fakeCLI() int {
	// go-plugin ends it (or, in this test, does not): no context of ours.
	cmd := exec.CommandContext(context.Background(), os.Args[0]) //nolint:gosec // G204: this test binary, as the provider
	cmd.Env = withRole("provider")
	cmd.ExtraFiles = []*os.File{os.NewFile(3, "alive")}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  6,
			MagicCookieKey:   "TF_PLUGIN_MAGIC_COOKIE",
			MagicCookieValue: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
		},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Plugins:          plugin.PluginSet{},
		// go-plugin would append this process's environment after
		// cmd.Env, and with it the role "cli".
		SkipHostEnv: true,
		Stderr:      io.Discard,
	})
	if _, err := client.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the provider:", err)
		return 1
	}
	fmt.Println(client.ReattachConfig().Pid)
	select {}
}

// The provider ends soon after the CLI that started it dies without a
// word (a panic, kill -9): go-plugin alone would serve on forever.
func TestProvider_exitsWithItsCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the provider as a separate process")
	}
	aliveR, aliveW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = aliveR.Close() }()
	cli := exec.CommandContext(t.Context(), os.Args[0]) //nolint:gosec // G204: this test binary, as the CLI
	cli.Env = withRole("cli")
	cli.ExtraFiles = []*os.File{aliveW}
	// go-plugin logs at DEBUG to the CLI's stderr: shown only on failure.
	var cliLog bytes.Buffer
	cli.Stderr = &cliLog
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the fake CLI's output:\n%s", cliLog.String())
		}
	})
	out, err := cli.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	// Only the CLI and the provider hold it now.
	if err := aliveW.Close(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cli.Process.Kill()
		t.Fatalf("the fake CLI did not report the provider's process ID: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	// Whatever happens, the provider does not outlive the test.
	defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }()

	// While its CLI lives, the provider keeps serving.
	if gone := waitClosed(t, aliveR, 3*parentPollInterval); gone {
		t.Fatal("the provider exited while the CLI that started it was still running")
	}
	if err := cli.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cli.Wait()
	// The CLI's copy of the pipe is closed now; the provider's is closed
	// when it exits. A loaded machine may be slow, hence the margin.
	if !waitClosed(t, aliveR, 30*time.Second) {
		t.Fatalf("the provider (process %d) was still running 30 s after the CLI that started it was killed", pid)
	}
}

// withRole is this process's environment with the test role set to role.
func withRole(role string) []string {
	env := []string{testRoleEnv + "=" + role}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, testRoleEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// waitClosed reports whether every writer of r closed it within d.
func waitClosed(t *testing.T, r *os.File, d time.Duration) bool {
	t.Helper()
	if err := r.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	_, err := r.Read(make([]byte, 1))
	switch {
	case errors.Is(err, io.EOF):
		return true
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false
	default:
		t.Fatalf("reading the provider's alive pipe: %v", err)
		return false
	}
}
