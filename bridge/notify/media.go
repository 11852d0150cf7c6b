package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// mediaRule is what a media link of one template type must satisfy
// (platforms.md D.2).
type mediaRule struct {
	wire    string   // templateType in error bodies
	allowed []string // allowedMimeTypes, in the order error bodies list them
	max     int64    // maxFileSize: the content-length must be strictly smaller
}

// mediaRules are D.2's table, kept exactly (VIDEO allows audio/mpeg, sic).
var mediaRules = map[string]mediaRule{
	TypeImage: {"IMAGE", []string{"image/png", "image/jpeg"}, 2000000},
	TypeVideo: {"VIDEO", []string{"audio/mpeg", "video/mp4"}, 20000000},
	TypeDocument: {"DOCUMENT", []string{"application/pdf",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, 2000000},
}

// errPrivate is a dial refused because the resolved address is not public.
var errPrivate = errors.New("address is not public")

// newMediaClient returns the client of the HEAD checks: no proxy, the
// whole exchange (redirects included) bounded by timeout, at most
// maxRedirects redirects (negative: none), only http and https. When allow
// is not nil, every connection's resolved address is checked with it in
// the dialer's Control hook (after DNS, so a public name pointing at a
// private address is refused too, and on every redirect hop) and the
// connection refused when allow says no. Production passes publicAddr
// unless the channel sets allow_private_media.
func newMediaClient(allow func(netip.Addr) bool, timeout time.Duration, maxRedirects int) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if allow != nil {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %q", errPrivate, address)
			}
			if !allow(ap.Addr()) {
				return fmt.Errorf("%w: %s", errPrivate, ap.Addr())
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          8,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > max(maxRedirects, 0) {
				return fmt.Errorf("more than %d redirects", max(maxRedirects, 0))
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to scheme %q", req.URL.Scheme)
			}
			return nil
		},
	}
}

// nonPublic are ranges that IsPrivate and friends do not cover but that
// are no public Internet host either.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard-only
}

// publicAddr reports whether a is a public unicast address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// headResult is what the HEAD request of a media link said.
type headResult struct {
	contentType   *string // header as received; nil when absent
	contentLength *int64  // nil when absent or unparsable
}

// head sends HEAD to link. An error (transport, refused address, too many
// redirects, or a non-2xx final answer) means the link does not serve HEAD.
func (a *Adapter) head(ctx context.Context, link string) (headResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, link, nil)
	if err != nil {
		return headResult{}, err
	}
	req.Header.Set("User-Agent", "smscbridge")
	resp, err := a.media.Do(req)
	if err != nil {
		return headResult{}, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return headResult{}, fmt.Errorf("HEAD answered %d", resp.StatusCode)
	}
	var r headResult
	if v := resp.Header.Values("Content-Type"); len(v) > 0 {
		s := strings.TrimSpace(v[0])
		r.contentType = &s
	}
	if v := resp.Header.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 {
			r.contentLength = &n
		}
	}
	return r, nil
}

// mimeType is the media type of a content-type header without parameters,
// lower case.
func mimeType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
