"""Guardian (policy decision point) inputs: decision logs and Prometheus counters."""
