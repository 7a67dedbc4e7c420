package chaos

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// The real-CLI tier: the same schedules (GenerateForCLI) and invariants,
// with the Terraform or OpenTofu CLI and the provider binary instead of the
// emulation. The binary waits at the API's own pace (its poll schedule and
// create lookup are not options), so the simulator runs at Scale 20 and
// the schedules are short. What the real CLI cannot show is checked in a
// weaker form: a delete counts as returned when the command ended (not
// when the call returned), and the plan is not read; the provider's logs
// are TF_LOG_PROVIDER=TRACE in a file.

// CLIOptions say which CLI runs a schedule and where.
type CLIOptions struct {
	// Terraform is the CLI; ProviderRC a CLI configuration whose
	// dev_overrides point clouddc-tf/clouddc at the provider binary
	// (clitest.BuildProvider writes one); Dir an empty folder to work in.
	Terraform  string
	ProviderRC string
	Dir        string
	// Scale is how much faster than the API the simulator runs (default
	// 20: an install of a minute takes three seconds).
	Scale float64
}

// RunCLI runs a schedule with the real CLI and checks the invariants after
// every step.
func RunCLI(ctx context.Context, sched Schedule, mask Mask, o CLIOptions) *Result {
	if o.Scale <= 0 {
		o.Scale = 20
	}
	w := newWorld(sched, mask, Options{Scale: o.Scale, CommandLimit: 10 * time.Minute})
	rc := &realCLI{w: w, terraform: o.Terraform, rc: o.ProviderRC, dir: filepath.Join(o.Dir, "work"), logPath: filepath.Join(o.Dir, "provider.log")}
	if err := os.MkdirAll(rc.dir, 0o750); err != nil {
		w.violate(Violation{Invariant: 0, Class: "setup", Step: -1, Message: err.Error()})
		return w.res
	}
	w.drv = rc
	return w.play(ctx)
}

// realCLI runs commands with a CLI binary in a working folder.
type realCLI struct {
	w         *world
	terraform string
	rc, dir   string
	logPath   string
	logOffset int64
}

func (c *realCLI) args(cmd command) []string {
	common := []string{"-input=false", "-no-color"}
	switch cmd.kind {
	case cmdApply:
		return append([]string{"apply", "-auto-approve", "-parallelism=10"}, common...)
	case cmdDestroy:
		return append([]string{"destroy", "-auto-approve", "-parallelism=10"}, common...)
	case cmdRefresh:
		return append([]string{"apply", "-refresh-only", "-auto-approve"}, common...)
	case cmdPlan:
		return append([]string{"plan"}, common...)
	default:
		return append(append([]string{"import"}, common...), cmd.importAddr, cmd.importID)
	}
}

// env is the CLI's environment: no provider setting from outside, the
// provider's logs at TRACE in a file, and the credentials of creds.
func (c *realCLI) env(cr creds, blocks []Block) []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "CLOUDDC_") || strings.HasPrefix(k, "HW_") || strings.HasPrefix(k, "TF_LOG") ||
			strings.HasPrefix(k, "TF_VAR_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+c.rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"TF_LOG_PROVIDER=TRACE", "TF_LOG_CORE=OFF", "TF_LOG_PATH="+c.logPath)
	// The names of the provider's variables, not credentials.
	names := map[string]string{"endpoint": "CLOUDDC_ENDPOINT", "project_id": "CLOUDDC_PROJECT_ID", "token": "CLOUDDC_TOKEN", //nolint:gosec // G101: variable names
		"access_key": "CLOUDDC_ACCESS_KEY", "secret_key": "CLOUDDC_SECRET_KEY", "region": "CLOUDDC_REGION", "iam_endpoint": "CLOUDDC_IAM_ENDPOINT"}
	for k, v := range c.w.providerSettings(cr) {
		name, ok := names[k]
		if !ok {
			panic("chaos: no variable sets the provider's " + k)
		}
		env = append(env, name+"="+v)
	}
	for _, b := range blocks {
		env = append(env, "TF_VAR_pw_"+b.Name+"="+b.Password)
	}
	return env
}

// hcl is the configuration of blocks.
func (c *realCLI) hcl(blocks []Block) string {
	var b strings.Builder
	b.WriteString("terraform {\n  required_providers {\n    clouddc = { source = \"clouddc-tf/clouddc\" }\n  }\n}\n\n")
	b.WriteString("provider \"clouddc\" {\n")
	if r := c.w.sched.MaxRetries; r >= 0 {
		fmt.Fprintf(&b, "  max_retries = %d\n", r)
	}
	b.WriteString("}\n")
	to := c.w.d(apiTimeout).String()
	for _, bl := range blocks {
		fmt.Fprintf(&b, "\nvariable \"pw_%s\" {\n  type      = string\n  sensitive = true\n}\n\n", bl.Name)
		fmt.Fprintf(&b, "resource \"clouddc_instance\" %q {\n  count    = %d\n", bl.Name, bl.Count)
		fmt.Fprintf(&b, "  name     = %q\n", strings.ReplaceAll(bl.InstanceName, "%d", "${count.index}"))
		fmt.Fprintf(&b, "  image_id = %q\n  vpc_id   = %q\n", bl.Image, simulator.DefaultVPCID)
		if bl.WriteOnly {
			fmt.Fprintf(&b, "  password_wo         = var.pw_%s\n  password_wo_version = %d\n", bl.Name, bl.PasswordWOVersion)
		} else {
			fmt.Fprintf(&b, "  password = var.pw_%s\n", bl.Name)
		}
		b.WriteString("  network_interfaces = [\n")
		for n, sn := range bl.Subnets {
			if n == 0 && bl.FixedIP > 0 {
				fmt.Fprintf(&b, "    { subnet_id = %q, ipv4_address = \"192.168.0.${%d + count.index}\" },\n", sn, bl.FixedIP)
			} else {
				fmt.Fprintf(&b, "    { subnet_id = %q },\n", sn)
			}
		}
		b.WriteString("  ]\n")
		if bl.Power != "" {
			fmt.Fprintf(&b, "  power_state = %q\n", bl.Power)
		}
		if bl.Protect != nil {
			fmt.Fprintf(&b, "  deletion_protection = %v\n", *bl.Protect)
		}
		if bl.Description != "" {
			fmt.Fprintf(&b, "  description = %q\n", bl.Description)
		}
		if len(bl.Metadata) > 0 {
			b.WriteString("  metadata = {\n")
			for _, k := range sortedKeys(bl.Metadata) {
				fmt.Fprintf(&b, "    %q = %q\n", k, bl.Metadata[k])
			}
			b.WriteString("  }\n")
		}
		fmt.Fprintf(&b, "  timeouts {\n    create = %q\n    update = %q\n    delete = %q\n  }\n}\n", to, to, to)
	}
	return b.String()
}

func (c *realCLI) run(ctx context.Context, cmd command) *outcome {
	out := &outcome{Actions: map[string]action{}}
	if err := os.WriteFile(filepath.Join(c.dir, "main.tf"), []byte(c.hcl(cmd.blocks)), 0o600); err != nil {
		out.Diags = append(out.Diags, Diagnostic{Error: true, Summary: "Writing the Configuration", Detail: err.Error()})
		return out
	}
	before := c.snapshot()
	start := time.Now()
	x := exec.CommandContext(ctx, c.terraform, append([]string{"-chdir=" + c.dir}, c.args(cmd)...)...) //nolint:gosec // G204: the CLI the test was given, on our own files
	x.Env = c.env(cmd.creds, cmd.blocks)
	var buf bytes.Buffer
	x.Stdout, x.Stderr = &buf, &buf
	if err := x.Start(); err != nil {
		out.Diags = append(out.Diags, Diagnostic{Error: true, Summary: "Starting the CLI", Detail: err.Error()})
		return out
	}
	var interrupted atomic.Bool
	if cmd.interruptAfter > 0 {
		t := time.AfterFunc(cmd.interruptAfter, func() {
			interrupted.Store(true)
			_ = x.Process.Signal(syscall.SIGINT)
		})
		defer t.Stop()
	}
	err := x.Wait()
	out.Interrupted = interrupted.Load()
	out.OK = err == nil
	text := buf.String()
	switch {
	case !out.OK:
		summary := "terraform " + cmd.kind.String() + " failed"
		if i := strings.Index(text, "Error: "); i >= 0 {
			summary, _, _ = strings.Cut(text[i+len("Error: "):], "\n")
		}
		out.Diags = append(out.Diags, Diagnostic{Error: true, Summary: summary, Detail: text})
	case strings.Contains(text, "Warning: "):
		out.Diags = append(out.Diags, Diagnostic{Summary: "the command's warnings", Detail: text})
	}
	c.scanLog()
	// An object that left the state after its deletion started was
	// deleted; the CLI does not say when each delete returned, so the
	// instance is looked at now (a weaker form of invariant 3).
	after := c.snapshot()
	for addr, o := range before {
		if a, ok := after[addr]; (ok && a.ID == o.ID) || !isUUID(o.ID) {
			continue
		}
		if tl, ok := c.w.sim.Timeline(o.ID); ok {
			for _, h := range tl.History {
				if h.State == "shutting-down" && !h.At.Before(start) {
					state := tl.State
					if tl.Purged {
						state = "gone"
					}
					out.Deletes = append(out.Deletes, DeleteReturn{Address: addr, ID: o.ID, OK: true, SimState: state})
					break
				}
			}
		}
	}
	return out
}

// scanLog hands the provider log's new lines to the secrets scanner.
func (c *realCLI) scanLog() {
	f, err := os.Open(c.logPath)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(c.logOffset, io.SeekStart); err != nil {
		return
	}
	n, _ := io.Copy(c.w.logs, f)
	c.logOffset += n
}

// snapshot reads the local state file.
func (c *realCLI) snapshot() map[string]StateObject {
	out := map[string]StateObject{}
	b, err := os.ReadFile(filepath.Join(c.dir, "terraform.tfstate"))
	if err != nil {
		return out
	}
	var doc struct {
		Resources []struct {
			Mode, Type, Name string
			Instances        []struct {
				IndexKey   any             `json:"index_key"`
				Status     string          `json:"status"`
				Attributes json.RawMessage `json:"attributes"`
				Private    string          `json:"private"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return out
	}
	for _, r := range doc.Resources {
		if r.Mode != "managed" || r.Type != resourceType {
			continue
		}
		for _, in := range r.Instances {
			addr := fmt.Sprintf("%s.%s[%v]", resourceType, r.Name, in.IndexKey)
			o := StateObject{Address: addr, Tainted: in.Status == "tainted", JSON: string(in.Attributes)}
			o.Private, _ = base64.StdEncoding.DecodeString(in.Private)
			var attrs map[string]any
			if json.Unmarshal(in.Attributes, &attrs) == nil {
				o.ID, _ = attrs["id"].(string)
			}
			out[addr] = o
		}
	}
	return out
}

func (c *realCLI) stateRm(addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	x := exec.CommandContext(ctx, c.terraform, "-chdir="+c.dir, "state", "rm", addr) //nolint:gosec // G204: the CLI the test was given, on our own files
	x.Env = c.env(creds{}, nil)
	_ = x.Run()
}
