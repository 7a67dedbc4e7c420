package simulator

import (
	"net/http"
	"strconv"
	"strings"
)

// The fault kinds below answer what a gateway, a proxy or a broken path
// between a client and the API can answer: documents that are well-formed
// but are not listings, pages that lost items, a 404 that is not the API's,
// redirects, huge bodies, absurd Retry-After values. The client must stay
// correct through each of them; they are set with the fields of Fault.

// SinkTarget is the Fault.RedirectTo value that points a redirect to the
// simulator's RedirectSink.
const SinkTarget = "sink"

// maxFaultBody caps Fault.BodyBytes.
const maxFaultBody = 1 << 30

// answersItself reports whether a fault writes its own answer (see answerFault)
// rather than an error in the API's format.
func (f *Fault) answersItself() bool {
	return f.Body != "" || f.LoseItems > 0 || f.HideItems > 0 || f.RedirectTo != "" || f.BodyBytes > 0 || f.Gateway || f.RetryAfterHeader != ""
}

// altersListing reports whether a fault changes a ListInstances request or
// its answer rather than answering in its place.
func (f *Fault) altersListing() bool {
	return f.LoseItems > 0 || f.HideItems > 0 || f.IgnoreFilter
}

// answerFault writes the answer of a fault for which answersItself holds.
// carry carries the request out and returns its answer; it is called only
// for LoseItems and HideItems, which alter a real answer.
func (s *Simulator) answerFault(w http.ResponseWriter, r *http.Request, f Fault, carry func() (int, any, *apiError)) {
	if f.RetryAfterHeader != "" {
		w.Header().Set("Retry-After", f.RetryAfterHeader)
	}
	switch {
	case f.RedirectTo != "":
		target := f.RedirectTo
		if target == SinkTarget {
			k, err := s.RedirectSink()
			if err != nil {
				writeError(w, &apiError{status: http.StatusInternalServerError, code: "SIM.0500", msg: "starting the redirect sink failed: " + err.Error()})
				return
			}
			target = k.URL()
		}
		w.Header().Set("Location", strings.TrimRight(target, "/")+r.URL.RequestURI())
		w.WriteHeader(f.Status)
	case f.Body != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
	case f.BodyBytes > 0:
		writeHugeBody(w, f.Status, f.BodyBytes)
	case f.LoseItems > 0 || f.HideItems > 0:
		status, out, apiErr := carry()
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		if page, ok := out.(listAnswer); ok {
			out = alterPage(page, f)
		}
		if out == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, out)
	case f.Gateway:
		// The API gateway's own error: an APIGW code, never an iMetal one.
		code, msg := "APIGW.0201", "Request error"
		switch f.Status {
		case http.StatusNotFound:
			code, msg = "APIGW.0101", "The API does not exist or has not been published in the environment"
		case http.StatusTooManyRequests:
			code, msg = "APIGW.0308", "The throttling threshold has been reached"
		}
		writeError(w, &apiError{status: f.Status, code: code, msg: msg})
	default: // only RetryAfterHeader: the API's error with that header
		a := faultAnswer(f)
		a.retryAfter = 0
		a.write(w)
	}
}

// alterPage applies LoseItems and HideItems to a page of ListInstances,
// each to the last items of the page.
func alterPage(page listAnswer, f Fault) listAnswer {
	if n := min(f.HideItems, len(page.Instances)); n > 0 {
		// Hidden items leave a listing that adds up: count and
		// current_count drop with them.
		page.Instances = page.Instances[:len(page.Instances)-n]
		page.Count -= n
	}
	if f.LoseItems > 0 {
		// The page keeps its count and loses items and its marker, as a
		// page that a gateway or a cache cut short does.
		page.Instances = page.Instances[:len(page.Instances)-min(f.LoseItems, len(page.Instances))]
		page.PageInfo.NextMarker = ""
	}
	page.PageInfo.CurrentCount = len(page.Instances)
	return page
}

// writeHugeBody streams a JSON object of about size bytes, a valid empty
// listing padded with a long string, without holding it in memory.
func writeHugeBody(w http.ResponseWriter, status int, size int64) {
	head := []byte(`{"instances":[],"page_info":{"next_marker":""},"count":0,"padding":"`)
	tail := []byte(`"}`)
	pad := max(0, size-int64(len(head)+len(tail)))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.FormatInt(int64(len(head))+pad+int64(len(tail)), 10))
	w.WriteHeader(status)
	if _, err := w.Write(head); err != nil {
		return
	}
	chunk := []byte(strings.Repeat("x", 1<<16))
	for pad > 0 {
		n := min(pad, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			return // the client stopped reading
		}
		pad -= n
	}
	_, _ = w.Write(tail)
}

// faultDefaultStatus is the status of a fault that sets none: 200 for the
// faults that answer a document, 307 for a redirect, 503 for the rest.
func faultDefaultStatus(f Fault) int {
	switch {
	case f.RedirectTo != "":
		return http.StatusTemporaryRedirect
	case f.Body != "" || f.BodyBytes > 0 || f.altersListing() || f.Replay > 0:
		return http.StatusOK
	case f.Gateway:
		return http.StatusNotFound
	}
	return http.StatusServiceUnavailable
}
