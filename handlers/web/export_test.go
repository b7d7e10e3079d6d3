package web

import (
	"context"
	"net"
)

// ServeOn serves as Serve does, with /metrics on mln rather than on a
// listener of MetricsAddr, whose port a test cannot know.
func (s *Server) ServeOn(ctx context.Context, ln, mln net.Listener) error {
	return s.serve(ctx, ln, mln, nil)
}
