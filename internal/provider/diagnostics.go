package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// addClientError turns an error from the client into a diagnostic that says
// what the API answered and what to do next. It is the one place where
// client errors become diagnostics.
func addClientError(diags *diag.Diagnostics, summary string, err error) {
	diags.AddError(summary, describeError(err))
}

// describeError renders an error for a platform engineer: the API's own
// words, then a hint.
func describeError(err error) string {
	var b strings.Builder
	var apiErr *clouddc.APIError
	var failed *clouddc.InstanceFailedError
	var waitErr *clouddc.WaitError
	var unexpected *clouddc.UnexpectedStateError
	var unknown *clouddc.OutcomeUnknownError
	var unsure *clouddc.CreateUncertainError
	var notMade *clouddc.CreateNotMadeError
	var incomplete *clouddc.IncompleteListingError
	var redirect *clouddc.RedirectError
	var tooLarge *clouddc.ResponseTooLargeError
	switch {
	case errors.As(err, &unsure):
		b.WriteString(createUncertainDetail(unsure))
	case errors.As(err, &notMade):
		b.WriteString(notMade.Error())
		b.WriteString(".\n\nNothing was created, so running the command again is safe. To let the provider send such a create " +
			"again by itself, raise max_retries in the provider block.")
	case errors.As(err, &unknown):
		b.WriteString(err.Error())
		b.WriteString(".\n\nThe API may have acted on the request even though its answer was lost. Check the CloudDC console " +
			"before running the command again; an instance created this way can be imported with terraform import.")
	case errors.As(err, &failed):
		fmt.Fprintf(&b, "Instance %s failed to %s. It is in state %q (operation_state %q).\n\n",
			failed.InstanceID, failed.Goal, failed.State, failed.OperationState)
		if d := failed.Detail; d != nil {
			fmt.Fprintf(&b, "error_type: %s\nerror_code: %s\nerror_msg:  %s\n\n", orNone(d.Type), orNone(d.Code), orNone(d.Message))
		} else {
			b.WriteString("The API reported no error details.\n\n")
		}
		b.WriteString(failedHint(failed))
	case errors.As(err, &waitErr):
		b.WriteString(waitErr.Error())
		b.WriteString(".\n\n")
		if errors.Is(waitErr.Err, context.DeadlineExceeded) {
			b.WriteString("The operation may still finish on its own. If it normally takes this long, raise the " +
				"limit in the resource's timeouts block, for example:\n\n  timeouts {\n    create = \"60m\"\n    update = \"60m\"\n    delete = \"60m\"\n  }")
		} else {
			b.WriteString("The wait was interrupted. Run the command again to pick up where it stopped.")
		}
	case errors.As(err, &unexpected):
		b.WriteString(unexpected.Error())
		b.WriteString(".\n\nCheck the instance in the CloudDC console. If the state is new to you, a newer version of the provider may know it.")
	case errors.As(err, &incomplete):
		b.WriteString(err.Error())
		b.WriteString(".\n\nThe answer was a well-formed document that is not a complete list of instances (a gateway or a proxy answered " +
			"in the API's place, or the listing lost items). The provider does not conclude from it that any instance is gone, so nothing was " +
			"removed from the state. Run the command again; if it keeps happening, quote the request ID to Huawei Cloud support.")
	case errors.As(err, &redirect):
		b.WriteString(err.Error())
		b.WriteString(".\n\nCheck the endpoint argument (or " + EnvEndpoint + "): it must be the CloudDC API's own URL, such as " +
			"https://clouddc.cn-east-3.myhuaweicloud.com, not a URL that forwards to it. If a proxy sits in between, it must pass the API's answers through.")
	case errors.As(err, &tooLarge):
		b.WriteString(err.Error())
		b.WriteString(".")
	case errors.As(err, &apiErr):
		b.WriteString(apiAnswer("The CloudDC API", apiErr))
		if h := apiHint(apiErr); h != "" {
			b.WriteString("\n")
			b.WriteString(h)
		}
	default:
		b.WriteString(err.Error())
		if clouddc.IsTransient(err) {
			b.WriteString("\n\nThis looks like a network problem between Terraform and the CloudDC endpoint. Check the endpoint and your connection, then run the command again.")
		}
	}
	// The API's error is rendered above from its fields; say also that it
	// was retried, and how to change that.
	var exhausted *clouddc.RetriesExhaustedError
	if errors.As(err, &exhausted) && !strings.Contains(b.String(), "max_retries") {
		b.WriteString(strings.TrimRight("\n\n"+retriesNote(exhausted), "\n"))
	}
	return strings.TrimRight(b.String(), "\n")
}

// apiAnswer renders what a service (who, such as "The CloudDC API" or
// "IAM") answered: the request, the HTTP status, error_code, error_msg and
// the request ID, each line ending with a newline.
func apiAnswer(who string, e *clouddc.APIError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s answered %s %s with HTTP %d", who, e.Method, e.Path, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		fmt.Fprintf(&b, " (%s)", t)
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "error_code: %s\nerror_msg:  %s\n", orNone(e.Code), orNone(e.Message))
	if e.RequestID != "" {
		fmt.Fprintf(&b, "request ID: %s\n", e.RequestID)
	}
	return b.String()
}

// createWaitDetail explains a create whose wait for running ended first,
// on its timeout or on Ctrl-C. The instance exists and Terraform keeps it in
// state, tainted, so the next apply would replace it. On bare metal a
// replacement is a second full install, so the way to keep the instance,
// terraform untaint, comes first; "run the command again" would not resume
// this wait.
func createWaitDetail(e *clouddc.WaitError) string {
	var b strings.Builder
	b.WriteString(e.Error())
	fmt.Fprintf(&b, ".\n\nInstance %s exists and stays in the state, marked tainted. Once it is running, "+
		"run terraform untaint with this resource's address (for example `terraform untaint clouddc_instance.web`) "+
		"to keep it. Otherwise the next apply replaces it: it deletes this instance and installs a new one, "+
		"a second full install of a physical server. (Under deletion_protection = true that replacement is refused, and "+
		"terraform untaint is the way on.)", e.InstanceID)
	if errors.Is(e.Err, context.DeadlineExceeded) {
		b.WriteString("\n\nIf an install normally takes this long, raise the limit in the resource's timeouts block, " +
			"for example:\n\n  timeouts {\n    create = \"60m\"\n  }")
	}
	return b.String()
}

// createUncertainDetail explains a create whose outcome the provider could
// not establish: what is known, and how to bring the instance under
// Terraform. The protocol does not tell a provider the resource's address,
// so the command names it as Terraform shows it next to the error.
func createUncertainDetail(e *clouddc.CreateUncertainError) string {
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteString(".\n\n")
	switch {
	case e.InstanceID != "":
		fmt.Fprintf(&b, "Instance %s carries this create's token (metadata %s = %s), so this create made it. It is kept in the state, "+
			"marked tainted: the next terraform apply deletes it and creates a new one. If it is what you wanted, keep it with "+
			"terraform untaint ADDRESS, where ADDRESS is this resource's address as shown with this error (for example clouddc_instance.web[0]).",
			e.InstanceID, clouddc.CreateTokenKey, e.Token)
	case len(e.Candidates) > 0:
		fmt.Fprintf(&b, "These instances carry this create's token (metadata %s = %s), so this create made them: %s. None is in the "+
			"state. Keep one with\n\n  terraform import ADDRESS %s\n\nwhere ADDRESS is this resource's address as shown with this error "+
			"(for example clouddc_instance.web[0]), and delete the others in the CloudDC console.",
			clouddc.CreateTokenKey, e.Token, strings.Join(e.Candidates, ", "), e.Candidates[0])
	case !e.Deadline.IsZero():
		fmt.Fprintf(&b, "The provider did not send the create again, so that it cannot make a second instance. The resource is kept "+
			"in the state as a provisional object without an instance ID, marked tainted, holding the create's token (metadata %s = %s). "+
			"The next terraform plan or apply settles it: it waits until %s, when the API's time to carry the create out has passed, "+
			"adopts the instance if one carrying the token appeared (keep it with terraform untaint, or let the apply replace it), "+
			"and otherwise removes the object, so that the apply creates the instance. Nothing creates a second instance meanwhile.",
			clouddc.CreateTokenKey, e.Token, e.Deadline.UTC().Format(time.RFC3339))
	default:
		fmt.Fprintf(&b, "The provider did not send the create again, so that it cannot make a second instance. Nothing was saved to "+
			"the state. Before you run terraform apply again, look for an instance whose metadata has %s = %s (the clouddc_instances data source shows it as "+
			"create_token; the CloudDC console shows the metadata). If there is one, this create made it: bring it under Terraform "+
			"with\n\n  terraform import ADDRESS INSTANCE_ID\n\nwhere ADDRESS is this resource's address as shown with this error "+
			"(for example clouddc_instance.web[0]). If there is none a minute from now, apply again.",
			clouddc.CreateTokenKey, e.Token)
	}
	return b.String()
}

func retriesNote(e *clouddc.RetriesExhaustedError) string {
	if e.Retries == 0 {
		return "The request was not retried because max_retries is 0."
	}
	return fmt.Sprintf("The provider retried the request %d times over %s before giving up; the provider's max_retries argument sets how many times.",
		e.Retries, e.Elapsed.Round(time.Second))
}

func failedHint(e *clouddc.InstanceFailedError) string {
	typ := ""
	if e.Detail != nil {
		typ = e.Detail.Type
	}
	switch {
	case typ == clouddc.ErrorTypeDelete:
		return "The instance stays in the Terraform state. Run terraform destroy (or apply) again to retry the deletion; " +
			"if it keeps failing, quote the error above to Huawei Cloud support."
	case typ == clouddc.ErrorTypeCreate || (typ == "" && e.Goal == "become running"):
		return "The instance is marked as tainted: the next terraform apply deletes it and creates a new one. " +
			"If the error names the server, the image or the network, fix that first. Under deletion_protection = true the " +
			"replacement is refused: run terraform untaint with the resource's address, set deletion_protection = false and " +
			"apply, then terraform apply -replace with that address."
	case typ == clouddc.ErrorTypeReinstall:
		return "The state keeps the image the instance had, so the next terraform apply tries the reinstall again " +
			"(the API allows it from this error state). If the error names the image, fix image_id first."
	case typ == clouddc.ErrorTypeModifyIP:
		return "The state keeps the addresses the API reports, so the next terraform apply tries the change again. " +
			"If the error names an address or a subnet, fix network_interfaces first."
	}
	return "The state records what the API reports, so the next terraform apply shows what is left to do. " +
		"Check the instance in the CloudDC console; if it keeps failing, quote the error above to Huawei Cloud support."
}

func apiHint(e *clouddc.APIError) string {
	switch {
	case errors.Is(e, clouddc.ErrUnauthorized):
		return unauthorizedHint(e.Auth)
	case errors.Is(e, clouddc.ErrForbidden):
		return "The credentials lack a permission this operation needs. Ask your administrator for the CloudDC " +
			"permissions clouddc:instance:* in this project, and check that project_id is the project of the token or the access key."
	case errors.Is(e, clouddc.ErrRateLimited):
		return "The API is rate limiting this account. Lower terraform's -parallelism, or run the command again in a minute."
	case errors.Is(e, clouddc.ErrServerError):
		return "The API failed on its side. Run the command again; if it keeps failing, quote the request ID to Huawei Cloud support."
	case errors.Is(e, clouddc.ErrServerNotReady):
		return "The physical server is not ready (it may host another instance). Choose a server in state ready, or leave server_id unset."
	case e.Code == clouddc.CodeServerNotFound:
		return "No physical server has this ID in the project. Check server_id."
	case errors.Is(e, clouddc.ErrInvalidState):
		return "Wait until the instance's current operation ends, then run the command again."
	case errors.Is(e, clouddc.ErrBadRequest):
		return "The API rejected a value of the configuration; error_msg names it."
	}
	return ""
}

// unauthorizedHint says what to check when the credentials were refused,
// for the kind of credentials that were sent: token advice for a token,
// key advice for an access key pair, both when the kind is not known. The
// gateway's error_msg tells the causes of a refused signature apart; the
// hint names them rather than guess from the message.
func unauthorizedHint(auth clouddc.AuthMethod) string {
	const token = "The token is invalid or has expired (IAM tokens are valid for 24 hours). Get a new token " +
		"from IAM (POST /v3/auth/tokens, scoped to the project) and set it in the provider's token argument or the " +
		EnvToken + " (or " + EnvHWAuthToken + ") environment variable, or sign with an access key pair instead, which does not expire."
	const pair = "The access key pair's signature was refused; error_msg says why. \"verify aksk signature fail\": the secret " +
		"key does not belong to the access key (both halves must come from one key pair, with no stray space or newline; " +
		"a rotated secret key is refused). \"ak not exist\": no such access key, or it was deleted or disabled. " +
		"\"signature expired\": this machine's clock is more than 15 minutes off (the provider signs each request afresh). " +
		"After five refused signatures in a row the gateway locks the key pair for five minutes, right ones included. " +
		"The pair comes from access_key and secret_key, or " + EnvAccessKey + " and " + EnvSecretKey + " (or " + EnvHWAccessKey +
		" and " + EnvHWSecretKey + "); check both in the console under My Credentials > Access Keys."
	const temporary = " A temporary key pair must come with the security_token it was issued with (" + EnvSecurityToken +
		" or " + EnvHWSecurityToken + "), and expires with it: get a new one."
	switch auth {
	case clouddc.AuthToken:
		return token
	case clouddc.AuthAccessKey:
		return pair
	case clouddc.AuthTemporaryAccessKey:
		return pair + temporary
	}
	return "The credentials were refused. With a token: " + token + "\n\nWith an access key pair: " + pair + temporary
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
