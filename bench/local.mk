# Benchmarks: `make bench` builds them; each prints its figures and the ratio to a same-run baseline.
bench_PROGS =
bench: $(bench_PROGS)
.PHONY: bench

EXTRA_PROGRAMS += bench/bench_metrics
bench_PROGS += bench/bench_metrics
bench_bench_metrics_SOURCES = bench/bench_metrics.c
bench_bench_metrics_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_bench_metrics_LDADD = libnvc.la $(NVC_DEP_LIBS)

# Entropy coder: bench/bench_entropy [Msymbols] [repetitions]
EXTRA_PROGRAMS += bench/bench_entropy
bench_PROGS += bench/bench_entropy
bench_bench_entropy_SOURCES = bench/bench_entropy.c
bench_bench_entropy_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_bench_entropy_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
bench_bench_entropy_LDFLAGS = $(OPENMP_CFLAGS)
