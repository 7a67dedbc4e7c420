package provider

import (
	"context"
	"log/slog"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// tflogHandler bridges the client's slog records into Terraform's logs, under
// the context of the request that produced them. It masks the secrets it
// was given in every message and field, as a second line of defence: the
// client never logs credentials in the first place.
type tflogHandler struct {
	secrets []string
	attrs   []slog.Attr
	group   string
}

func newTFLogHandler(secrets ...string) *tflogHandler {
	var s []string
	for _, v := range secrets {
		if v != "" {
			s = append(s, v)
		}
	}
	return &tflogHandler{secrets: s}
}

func (h *tflogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *tflogHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, h.secrets...)
	ctx = tflog.MaskMessageStrings(ctx, h.secrets...)
	fields := make(map[string]any, r.NumAttrs()+len(h.attrs))
	add := func(a slog.Attr) bool {
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		fields[key] = a.Value.Resolve().Any()
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	switch {
	case r.Level >= slog.LevelError:
		tflog.Error(ctx, r.Message, fields)
	case r.Level >= slog.LevelWarn:
		tflog.Warn(ctx, r.Message, fields)
	case r.Level >= slog.LevelInfo:
		tflog.Info(ctx, r.Message, fields)
	default:
		tflog.Debug(ctx, r.Message, fields)
	}
	return nil
}

func (h *tflogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *tflogHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
