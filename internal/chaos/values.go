package chaos

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// This file holds what Terraform core does to values between the RPCs:
// the proposed new state (objchange.ProposedNew), the action a plan leads
// to, the checks of a planned and an applied value, and the state file's
// JSON. It reads the schema the provider itself announces, so that it
// follows the provider when attributes come and go.

// errUnsupportedSchema is what the emulation says about a schema construct
// that clouddc_instance does not use and that it therefore does not model.
var errUnsupportedSchema = errors.New("chaos: unsupported schema construct")

// objectAttrs returns the attributes of a known, non-null object value.
func objectAttrs(v tftypes.Value) map[string]tftypes.Value {
	var m map[string]tftypes.Value
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	if err := v.As(&m); err != nil {
		panic(fmt.Sprintf("chaos: %s is not an object: %v", v.Type(), err))
	}
	return m
}

// listElems returns the elements of a known, non-null list value.
func listElems(v tftypes.Value) []tftypes.Value {
	var l []tftypes.Value
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	if err := v.As(&l); err != nil {
		panic(fmt.Sprintf("chaos: %s is not a list: %v", v.Type(), err))
	}
	return l
}

// stringAttr returns a known string attribute of an object value, or "".
func stringAttr(v tftypes.Value, name string) string {
	a, ok := objectAttrs(v)[name]
	if !ok || a.IsNull() || !a.IsKnown() || !a.Type().Is(tftypes.String) {
		return ""
	}
	var s string
	if err := a.As(&s); err != nil {
		return ""
	}
	return s
}

// emptyValue is configschema.Block.EmptyValue: every attribute null, a
// single nested block null, a list block empty.
func emptyValue(b *tfprotov6.SchemaBlock) tftypes.Value {
	typ := b.ValueType()
	ot, _ := typ.(tftypes.Object)
	m := map[string]tftypes.Value{}
	for _, a := range b.Attributes {
		m[a.Name] = tftypes.NewValue(a.ValueType(), nil)
	}
	for _, nb := range b.BlockTypes {
		bt := ot.AttributeTypes[nb.TypeName]
		switch nb.Nesting {
		case tfprotov6.SchemaNestedBlockNestingModeSingle:
			m[nb.TypeName] = tftypes.NewValue(bt, nil)
		case tfprotov6.SchemaNestedBlockNestingModeGroup:
			m[nb.TypeName] = emptyValue(nb.Block)
		case tfprotov6.SchemaNestedBlockNestingModeList:
			m[nb.TypeName] = tftypes.NewValue(bt, []tftypes.Value{})
		default:
			panic(errUnsupportedSchema)
		}
	}
	return tftypes.NewValue(typ, m)
}

// proposedNew is objchange.ProposedNew: the configuration's values, and the
// prior state's for the computed attributes the configuration leaves null;
// nested lists are matched element by element.
func proposedNew(b *tfprotov6.SchemaBlock, prior, config tftypes.Value) tftypes.Value {
	if config.IsNull() && prior.IsNull() {
		return prior
	}
	if prior.IsNull() {
		prior = emptyValue(b)
	}
	return proposedNewBlock(b, prior, config)
}

func proposedNewBlock(b *tfprotov6.SchemaBlock, prior, config tftypes.Value) tftypes.Value {
	if config.IsNull() || !config.IsKnown() {
		return prior
	}
	pm, cm := objectAttrs(prior), objectAttrs(config)
	out := proposedNewAttributes(b.Attributes, pm, cm)
	for _, nb := range b.BlockTypes {
		pv, cv := pm[nb.TypeName], cm[nb.TypeName]
		switch nb.Nesting {
		case tfprotov6.SchemaNestedBlockNestingModeSingle:
			if cv.IsNull() {
				out[nb.TypeName] = cv
				continue
			}
			out[nb.TypeName] = proposedNew(nb.Block, pv, cv)
		case tfprotov6.SchemaNestedBlockNestingModeGroup:
			out[nb.TypeName] = proposedNew(nb.Block, pv, cv)
		case tfprotov6.SchemaNestedBlockNestingModeList:
			cl := listElems(cv)
			pl := listElems(pv)
			elems := make([]tftypes.Value, 0, len(cl))
			for i, ce := range cl {
				if i >= len(pl) {
					elems = append(elems, ce)
					continue
				}
				elems = append(elems, proposedNew(nb.Block, pl[i], ce))
			}
			out[nb.TypeName] = tftypes.NewValue(cv.Type(), elems)
		default:
			panic(errUnsupportedSchema)
		}
	}
	return tftypes.NewValue(config.Type(), out)
}

func proposedNewAttributes(attrs []*tfprotov6.SchemaAttribute, prior, config map[string]tftypes.Value) map[string]tftypes.Value {
	out := make(map[string]tftypes.Value, len(attrs))
	for _, a := range attrs {
		pv, ok := prior[a.Name]
		if !ok {
			pv = tftypes.NewValue(a.ValueType(), nil)
		}
		cv := config[a.Name]
		switch {
		case a.Computed && cv.IsNull():
			out[a.Name] = pv
		case a.NestedType != nil:
			if !cv.IsKnown() {
				out[a.Name] = cv
			} else {
				out[a.Name] = proposedNewNested(a.NestedType, pv, cv)
			}
		default:
			out[a.Name] = cv
		}
	}
	return out
}

func proposedNewNested(o *tfprotov6.SchemaObject, prior, config tftypes.Value) tftypes.Value {
	switch o.Nesting {
	case tfprotov6.SchemaObjectNestingModeSingle:
		if config.IsNull() {
			return config
		}
		return tftypes.NewValue(config.Type(), proposedNewAttributes(o.Attributes, objectAttrs(prior), objectAttrs(config)))
	case tfprotov6.SchemaObjectNestingModeList:
		cl := listElems(config)
		if len(cl) == 0 {
			return config
		}
		pl := listElems(prior)
		elems := make([]tftypes.Value, 0, len(cl))
		for i, ce := range cl {
			if !prior.IsKnown() || i >= len(pl) {
				elems = append(elems, ce)
				continue
			}
			elems = append(elems, tftypes.NewValue(ce.Type(), proposedNewAttributes(o.Attributes, objectAttrs(pl[i]), objectAttrs(ce))))
		}
		return tftypes.NewValue(config.Type(), elems)
	default:
		panic(errUnsupportedSchema)
	}
}

// action is what a plan does to one resource instance.
type action int

const (
	actNoop action = iota
	actCreate
	actUpdate
	actReplace // delete, then create
	actDelete
)

func (a action) String() string {
	return [...]string{"no-op", "create", "update", "replace", "delete"}[a]
}

// planAction is getAction of Terraform core: create without a prior
// object, replace when an attribute the provider says requires replacement
// has changed, no-op when the planned value equals the prior one.
func planAction(prior, planned tftypes.Value, requiresReplace []*tftypes.AttributePath) action {
	if prior.IsNull() {
		return actCreate
	}
	for _, p := range requiresReplace {
		pv, perr := walk(prior, p)
		nv, nerr := walk(planned, p)
		if perr != nil && nerr != nil {
			continue
		}
		if perr != nil || nerr != nil || !nv.IsFullyKnown() || !pv.Equal(nv) {
			return actReplace
		}
	}
	if prior.Equal(planned) {
		return actNoop
	}
	return actUpdate
}

func walk(v tftypes.Value, p *tftypes.AttributePath) (tftypes.Value, error) {
	x, _, err := tftypes.WalkAttributePath(v, p)
	if err != nil {
		return tftypes.Value{}, err
	}
	out, ok := x.(tftypes.Value)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("chaos: %s is not a value", p)
	}
	return out, nil
}

// incompatible reports where actual disagrees with a planned value: every
// value the plan knew must come out as planned (objchange's
// AssertObjectCompatible, and its check of a final plan against the first).
// An empty result means they agree.
func incompatible(planned, actual tftypes.Value, path string) []string {
	if !planned.IsKnown() {
		return nil
	}
	if planned.IsNull() || actual.IsNull() || !actual.IsKnown() {
		if planned.IsNull() != actual.IsNull() || !actual.IsKnown() {
			return []string{fmt.Sprintf("%s: planned %s, got %s", pathOr(path), planned, actual)}
		}
		return nil
	}
	switch {
	case planned.Type().Is(tftypes.Object{}):
		var out []string
		pm, am := objectAttrs(planned), objectAttrs(actual)
		names := make([]string, 0, len(pm))
		for k := range pm {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			out = append(out, incompatible(pm[k], am[k], path+"."+k)...)
		}
		return out
	case planned.Type().Is(tftypes.List{}):
		pl, al := listElems(planned), listElems(actual)
		if len(pl) != len(al) {
			return []string{fmt.Sprintf("%s: planned %d elements, got %d", pathOr(path), len(pl), len(al))}
		}
		var out []string
		for i := range pl {
			out = append(out, incompatible(pl[i], al[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case planned.Type().Is(tftypes.Map{}):
		var pm, am map[string]tftypes.Value
		_ = planned.As(&pm)
		_ = actual.As(&am)
		if len(pm) != len(am) {
			return []string{fmt.Sprintf("%s: planned %d elements, got %d", pathOr(path), len(pm), len(am))}
		}
		var out []string
		for k, v := range pm {
			out = append(out, incompatible(v, am[k], fmt.Sprintf("%s[%q]", path, k))...)
		}
		return out
	}
	if !planned.Equal(actual) {
		return []string{fmt.Sprintf("%s: planned %s, got %s", pathOr(path), planned, actual)}
	}
	return nil
}

func pathOr(p string) string {
	if p == "" {
		return "the object"
	}
	return p[1:]
}

// stateJSON is a value as the state file holds it.
func stateJSON(v tftypes.Value) ([]byte, error) {
	x, err := jsonValue(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(x)
}

func jsonValue(v tftypes.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsKnown() {
		return nil, errors.New("chaos: an unknown value cannot be stored")
	}
	switch t := v.Type(); {
	case t.Is(tftypes.String):
		var s string
		err := v.As(&s)
		return s, err
	case t.Is(tftypes.Bool):
		var b bool
		err := v.As(&b)
		return b, err
	case t.Is(tftypes.Number):
		var f big.Float
		if err := v.As(&f); err != nil {
			return nil, err
		}
		return json.Number(f.Text('g', -1)), nil
	case t.Is(tftypes.Object{}):
		out := map[string]any{}
		for k, a := range objectAttrs(v) {
			j, err := jsonValue(a)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	case t.Is(tftypes.Map{}):
		var m map[string]tftypes.Value
		if err := v.As(&m); err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, a := range m {
			j, err := jsonValue(a)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	case t.Is(tftypes.List{}) || t.Is(tftypes.Set{}):
		var l []tftypes.Value
		if err := v.As(&l); err != nil {
			return nil, err
		}
		out := make([]any, len(l))
		for i, a := range l {
			j, err := jsonValue(a)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s", errUnsupportedSchema, v.Type())
}

// objectValue is an object of typ with the given attributes, every other
// attribute null.
func objectValue(typ tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	ot, ok := typ.(tftypes.Object)
	if !ok {
		panic(fmt.Sprintf("chaos: %s is not an object type", typ))
	}
	m := make(map[string]tftypes.Value, len(ot.AttributeTypes))
	for k, at := range ot.AttributeTypes {
		if v, ok := set[k]; ok {
			m[k] = v
			continue
		}
		m[k] = tftypes.NewValue(at, nil)
	}
	for k := range set {
		if _, ok := ot.AttributeTypes[k]; !ok {
			panic(fmt.Sprintf("chaos: the schema has no attribute %q", k))
		}
	}
	return tftypes.NewValue(typ, m)
}

func dynamic(typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		panic(fmt.Sprintf("chaos: encoding a %s: %v", typ, err))
	}
	return &dv
}

// fromDynamic decodes a DynamicValue; nil is a null.
func fromDynamic(typ tftypes.Type, dv *tfprotov6.DynamicValue) (tftypes.Value, error) {
	if dv == nil {
		return tftypes.NewValue(typ, nil), nil
	}
	return dv.Unmarshal(typ)
}
