// Command clouddc-simulator serves a local CloudDC iMetal API, so that
// Terraform code can be tried without a Huawei Cloud account.
//
//	clouddc-simulator -listen 127.0.0.1:8787 -create-duration 20s
//
// It prints the endpoint, project ID and token to configure the provider with.
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
	"syscall"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "clouddc-simulator:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clouddc-simulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8787", "address to listen on; keep it on loopback unless you know why not")
	token := fs.String("token", simulator.DefaultToken, "the token clients must send as X-Auth-Token")
	project := fs.String("project-id", simulator.DefaultProjectID, "the project ID the token belongs to")
	create := fs.Duration("create-duration", 10*time.Second, "how long creating an instance takes")
	del := fs.Duration("delete-duration", 10*time.Second, "how long deleting an instance takes")
	retention := fs.Duration("retention", 5*time.Minute, "how long a terminated instance stays visible")
	servers := fs.Int("servers", 10, "number of physical servers in the pool")
	endpointFile := fs.String("endpoint-file", "", "write the endpoint URL to this file once listening (for scripts)")
	quiet := fs.Bool("quiet", false, "do not log state changes")
	if err := fs.Parse(args); err != nil {
		return err
	}

	logOut := stdout
	if *quiet {
		logOut = io.Discard
	}
	sim, err := simulator.New(simulator.Options{
		ProjectID: *project, Token: *token,
		CreateDuration: *create, DeleteDuration: *del, Retention: *retention,
		Servers: *servers,
		Logger:  slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{ReplaceAttr: shortLog})),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	endpoint := "http://" + ln.Addr().String()
	if *endpointFile != "" {
		if err := os.WriteFile(*endpointFile, []byte(endpoint+"\n"), 0o600); err != nil {
			return err
		}
	}
	printBanner(stdout, endpoint, sim)

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func printBanner(w io.Writer, endpoint string, sim *simulator.Simulator) {
	fmt.Fprintf(w, `CloudDC simulator listening on %s

Configure the provider with:
  export CLOUDDC_ENDPOINT=%s
  export CLOUDDC_PROJECT_ID=%s
  export CLOUDDC_TOKEN=%s

Network:  vpc_id %s, subnets %s (192.168.0.0/24) and %s (192.168.1.0/24)
Images:
`, endpoint, endpoint, sim.ProjectID(), sim.Token(), simulator.DefaultVPCID, simulator.DefaultSubnetID, simulator.DefaultSubnetID2)
	for _, im := range simulator.DefaultImages() {
		fmt.Fprintf(w, "  %s  %s (%s)\n", im.ID, im.Name, im.OSType)
	}
	srvs := sim.Servers()
	if len(srvs) > 0 {
		fmt.Fprintf(w, "Servers:  %d, from %s to %s\n", len(srvs), srvs[0].ID, srvs[len(srvs)-1].ID)
	}
	fmt.Fprintln(w)
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
