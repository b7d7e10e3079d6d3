package bot

// Metrics receives counts of what Liaison does; handlers/web exports them
// to Prometheus. A nil Metrics counts nothing.
type Metrics interface {
	Intake(conn string, outcome Intake)
	Job(kind OpKind, result string) // "done", "retry", "rate_limited", "reconciled", "dead"
}

type noMetrics struct{}

func (noMetrics) Intake(string, Intake) {}
func (noMetrics) Job(OpKind, string)    {}
