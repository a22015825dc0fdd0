# Benchmarks: `make bench` builds them; each prints its figures and the ratio to a same-run baseline.
bench_PROGS =
bench: $(bench_PROGS)
.PHONY: bench
