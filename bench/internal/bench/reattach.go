package bench

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// serveInProcess serves a provider from this process, as
// terraform-plugin-testing does, so that the harness can profile it while
// a Terraform CLI plans. It returns the value of TF_REATTACH_PROVIDERS
// that points the CLI at it, and a function that stops it.
func serveInProcess(ctx context.Context, address string, p func() provider.Provider) (reattach string, stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	configs := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- tf6server.Serve(address, providerserver.NewProtocol6(p()),
			tf6server.WithDebug(ctx, configs, closed),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
			tf6server.WithoutLogStderrOverride())
	}()
	var c *plugin.ReattachConfig
	select {
	case c = <-configs:
	case err := <-served:
		cancel()
		return "", nil, errors.Join(errors.New("serving the provider in process"), err)
	case <-time.After(30 * time.Second):
		cancel()
		return "", nil, errors.New("the provider served in process did not start within 30s")
	}
	type addr struct{ Network, String string }
	type config struct {
		Protocol        string
		ProtocolVersion int
		Pid             int
		Test            bool
		Addr            addr
	}
	b, err := json.Marshal(map[string]config{address: {
		Protocol: string(c.Protocol), ProtocolVersion: c.ProtocolVersion, Pid: c.Pid, Test: c.Test,
		Addr: addr{Network: c.Addr.Network(), String: c.Addr.String()},
	}})
	if err != nil {
		cancel()
		return "", nil, err
	}
	return string(b), func() {
		cancel()
		<-closed
	}, nil
}
