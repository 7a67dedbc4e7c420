package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/provider"
)

// List resources and actions need Terraform 1.14 or later. Older CLIs and
// OpenTofu never ask for them, and everything else works there as before.
var (
	_ provider.ProviderWithListResources = (*clouddcProvider)(nil)
	_ provider.ProviderWithActions       = (*clouddcProvider)(nil)
)

func (p *clouddcProvider) ListResources(context.Context) []func() list.ListResource {
	return []func() list.ListResource{NewInstanceListResource}
}

func (p *clouddcProvider) Actions(context.Context) []func() action.Action {
	return []func() action.Action{NewInstancePowerOnAction, NewInstancePowerOffAction, NewInstanceRebootAction, NewInstanceReinstallAction}
}
