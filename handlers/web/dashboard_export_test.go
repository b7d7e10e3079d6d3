package web

import (
	"context"
	"net"
)

// ServeDashboardOn serves as Serve does, with /dashboard on dln rather
// than on a listener of DashboardAddr, whose port a test cannot know.
func (s *Server) ServeDashboardOn(ctx context.Context, ln, dln net.Listener) error {
	return s.serve(ctx, ln, nil, dln)
}
