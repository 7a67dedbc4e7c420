// Command clouddc-simulator serves a local CloudDC iMetal API, so that
// Terraform code can be tried without a Huawei Cloud account.
//
//	clouddc-simulator -listen 127.0.0.1:8787 -create-duration 20s
//	clouddc-simulator -state-file sim.json -admin-token s3cret -legacy
//
// It prints the endpoint, project ID and token to configure the provider
// with (and the access key pair, with -access-key and -secret-key). With -state-file the instances survive a restart, so the simulator
// can be stopped between terraform apply and terraform destroy; with
// -admin-token faults can be set over the admin API under /_simulator/.
// SIGINT or SIGTERM stops it and writes the state file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clouddc-simulator:", err)
		os.Exit(1)
	}
}

// run serves the simulator until ctx is done, then stops the server and
// closes the simulator, which writes the state file.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clouddc-simulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8787", "address to listen on; keep it on loopback unless you know why not")
	token := fs.String("token", simulator.DefaultToken, "the token clients must send as X-Auth-Token")
	project := fs.String("project-id", simulator.DefaultProjectID, "the project ID the token belongs to")
	region := fs.String("region", simulator.DefaultRegion, "the project's name in IAM, by which GET /v3/projects?name= finds it")
	accessKey := fs.String("access-key", "", "also accept requests signed (SDK-HMAC-SHA256) with this access key (AK); needs -secret-key")
	secretKey := fs.String("secret-key", "", "the secret key (SK) of -access-key")
	create := fs.Duration("create-duration", 10*time.Second, "how long creating an instance takes")
	del := fs.Duration("delete-duration", 10*time.Second, "how long deleting an instance takes")
	reinstall := fs.Duration("reinstall-duration", 10*time.Second, "how long reinstalling an instance's OS takes")
	modifyIP := fs.Duration("modify-ip-duration", 5*time.Second, "how long changing an instance's addresses takes")
	power := fs.Duration("power-duration", 3*time.Second, "how long powering a physical server on or off, or rebooting it, takes")
	spread := fs.Float64("spread", 1, "vary each instance's durations around the ones above (log-normal, their median): the 95th percentile as a multiple of it, such as 2; 1 keeps them exact")
	spreadSeed := fs.Uint64("spread-seed", 1, "the seed of -spread's draw: the same seed gives an instance of the same name the same durations")
	retention := fs.Duration("retention", 5*time.Minute, "how long a terminated instance stays visible")
	servers := fs.Int("servers", 10, "number of physical servers in the pool")
	endpointFile := fs.String("endpoint-file", "", "write the endpoint URL to this file once listening (for scripts)")
	quiet := fs.Bool("quiet", false, "do not log state changes")
	stateFile := fs.String("state-file", "", "keep the state in this file, so that instances survive a restart (created if missing)")
	legacy := fs.Bool("legacy", false, "answer with the 2025 state names (teminated, failed, stopping, reinstalling, modifyIping)")
	adminToken := fs.String("admin-token", "", "turn on the admin API under /_simulator/; requests must send this in X-Simulator-Admin-Token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; every setting is a flag (see -help)", fs.Args())
	}
	if *spread < 1 {
		return fmt.Errorf("-spread %g: it is the 95th percentile of a duration as a multiple of its median, so at least 1 (1 keeps durations exact)", *spread)
	}
	if (*accessKey == "") != (*secretKey == "") {
		return errors.New("-access-key and -secret-key go together: give both or neither")
	}
	var keys map[string]simulator.AccessKey
	if *accessKey != "" {
		keys = map[string]simulator.AccessKey{*accessKey: {Secret: *secretKey, ProjectID: *project}}
	}

	logOut := stdout
	if *quiet {
		logOut = io.Discard
	}
	sim, err := simulator.New(simulator.Options{
		ProjectID: *project, Token: *token, AccessKeys: keys, Region: *region,
		CreateDuration: *create, DeleteDuration: *del, Retention: *retention,
		ReinstallDuration: *reinstall, ModifyIPDuration: *modifyIP, PowerDuration: *power,
		Spread:  simulator.Spread{P95: *spread, Seed: *spreadSeed},
		Servers: *servers, Legacy: *legacy, StateFile: *stateFile, AdminToken: *adminToken,
		Logger: slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{ReplaceAttr: shortLog})),
	})
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		return errors.Join(err, sim.Close())
	}
	endpoint := "http://" + ln.Addr().String()
	// Whoever started the simulator reads the endpoint and the token from
	// the banner: if it cannot be written, nobody can use the simulator.
	if err := printBanner(stdout, endpoint, sim, *stateFile, *legacy, *accessKey, *secretKey); err != nil {
		return errors.Join(fmt.Errorf("writing the banner: %w", err), ln.Close(), sim.Close())
	}
	if *endpointFile != "" {
		// Written after the banner: scripts wait for this file, and then
		// the banner is complete.
		if err := os.WriteFile(*endpointFile, []byte(endpoint+"\n"), 0o600); err != nil {
			return errors.Join(err, ln.Close(), sim.Close())
		}
	}

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	// Close after the server has stopped, so that the state file holds
	// every request that was answered.
	if err := sim.Close(); err != nil {
		return errors.Join(serveErr, err)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	if *stateFile != "" {
		if _, err := fmt.Fprintf(stdout, "State written to %s\n", *stateFile); err != nil {
			return err
		}
	}
	return nil
}

// printBanner writes what to configure the provider with. It is written in
// one piece, so that a reader of w never sees half a banner.
func printBanner(w io.Writer, endpoint string, sim *simulator.Simulator, stateFile string, legacy bool, accessKey, secretKey string) error {
	var b strings.Builder
	fmt.Fprintf(&b, `CloudDC simulator listening on %s

Configure the provider with:
  export CLOUDDC_ENDPOINT=%s
  export CLOUDDC_PROJECT_ID=%s
  export CLOUDDC_TOKEN=%s
%s
Or let the provider look the project up by its region through the
simulator's IAM, as the huaweicloud provider does:
  unset CLOUDDC_PROJECT_ID
  export CLOUDDC_IAM_ENDPOINT=%s HW_REGION_NAME=%s

Network:  vpc_id %s, subnets %s (192.168.0.0/24) and %s (192.168.1.0/24)
Images:
`, endpoint, endpoint, sim.ProjectID(), sim.Token(), akskBanner(accessKey, secretKey), endpoint, sim.Region(), simulator.DefaultVPCID, simulator.DefaultSubnetID, simulator.DefaultSubnetID2)
	for _, im := range simulator.DefaultImages() {
		fmt.Fprintf(&b, "  %s  %s (%s)\n", im.ID, im.Name, im.OSType)
	}
	srvs := sim.Servers()
	if len(srvs) > 0 {
		fmt.Fprintf(&b, "Servers:  %d, from %s to %s\n", len(srvs), srvs[0].ID, srvs[len(srvs)-1].ID)
	}
	if stateFile != "" {
		fmt.Fprintf(&b, "State:    %s (%d instances)\n", stateFile, len(sim.Instances()))
	}
	if legacy {
		fmt.Fprintln(&b, "Legacy:   answering with the 2025 state names")
	}
	if sim.AdminToken() != "" {
		fmt.Fprintf(&b, "Admin API: %s/_simulator/ (send the header %s)\n", endpoint, simulator.AdminTokenHeader)
	}
	fmt.Fprintln(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// akskBanner tells how to sign with the access key instead of the token.
// The provider refuses a token and an access key from the same place, so
// the token's variable must go.
func akskBanner(accessKey, secretKey string) string {
	if accessKey == "" {
		return ""
	}
	return fmt.Sprintf(`
Or sign requests with the access key instead of the token:
  unset CLOUDDC_TOKEN
  export CLOUDDC_ACCESS_KEY=%s
  export CLOUDDC_SECRET_KEY=%s
`, accessKey, secretKey)
}

// shortLog keeps the simulator's log lines short enough to read beside
// Terraform's output: a wall-clock time and no level.
func shortLog(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		return slog.Attr{}
	case slog.TimeKey:
		return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
	}
	return a
}
