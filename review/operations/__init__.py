"""Operations: health and readiness probes, and the Prometheus metrics an operator watches."""
