package clouddc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Project lookup through IAM. Huawei Cloud names each region's default IAM
// project after the region (cn-east-3), and the huaweicloud Terraform
// provider finds the project ID of its region with Keystone's project list,
// GET /v3/projects?name={region}, when none is configured. This does the
// same, with the same credentials and retries as every other call.

// ErrProjectNotFound: IAM lists no project by that name for these
// credentials.
var ErrProjectNotFound = errors.New("clouddc: no IAM project by that name")

// ProjectLookupError is a lookup that IAM answered, but not with exactly
// one project.
type ProjectLookupError struct {
	// Name is the project name that was looked up (a region name).
	Name string
	// IDs are the projects IAM listed by that name: none, or more than one.
	IDs []string
}

func (e *ProjectLookupError) Error() string {
	if len(e.IDs) == 0 {
		return fmt.Sprintf("IAM lists no project named %q for these credentials", e.Name)
	}
	return fmt.Sprintf("IAM lists %d projects named %q (%s); which one is meant cannot be told", len(e.IDs), e.Name, strings.Join(e.IDs, ", "))
}

// Is makes errors.Is(err, ErrProjectNotFound) true when no project was listed.
func (e *ProjectLookupError) Is(target error) bool {
	return target == ErrProjectNotFound && len(e.IDs) == 0
}

// LookupProjectID returns the ID of the IAM project called name (a region
// name such as cn-east-3) from the IAM endpoint iamEndpoint, such as
// https://iam.cn-east-3.myhuaweicloud.com. opts are those of NewClient
// (credentials, HTTP client, retries, logger, user agent) without an
// endpoint or a project ID. Exactly one listed project is an answer; none or
// several is a *ProjectLookupError, never a guess.
func LookupProjectID(ctx context.Context, iamEndpoint, name string, opts ...Option) (string, error) {
	if name == "" {
		return "", errors.New("clouddc: the project name to look up must not be empty")
	}
	all := append(append([]Option{}, opts...), WithEndpoint(iamEndpoint), WithProjectID(name))
	c, err := NewClient(all...)
	if err != nil {
		return "", err
	}
	// The project list is not inside a project: a signed request carries
	// no X-Project-Id (the placeholder above only satisfies NewClient).
	c.projectID = ""

	var out struct {
		Projects []struct {
			ID      string `json:"id"`
			Name    string `json:"name"`
			Enabled *bool  `json:"enabled"`
		} `json:"projects"`
	}
	err = c.do(ctx, call{method: http.MethodGet, path: "/v3/projects", query: url.Values{"name": {name}}, out: &out, idempotent: true})
	if err != nil {
		return "", keystoneError(err)
	}
	var ids []string
	for _, p := range out.Projects {
		// IAM filters by name already; a project of another name in the
		// answer (a proxy that ignores the query) must not be taken.
		if p.Name == name && p.ID != "" {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) != 1 {
		return "", &ProjectLookupError{Name: name, IDs: ids}
	}
	c.logger.DebugContext(ctx, "found the IAM project", "name", name, "project_id", ids[0])
	return ids[0], nil
}

// keystoneError fills in the code and message of an IAM error answer,
// which IAM words as Keystone does ({"error": {"code", "title",
// "message"}}) rather than with error_code and error_msg.
func keystoneError(err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "" {
		return err
	}
	var body struct {
		Error struct {
			Title   string `json:"title"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(apiErr.Message), &body) == nil && (body.Error.Title != "" || body.Error.Message != "") {
		apiErr.Code, apiErr.Message = body.Error.Title, body.Error.Message
	}
	return err
}
