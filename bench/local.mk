# Benchmarks: `make bench` builds them; each prints its figures and the ratio to a same-run baseline.
bench_PROGS =
bench: $(bench_PROGS)
.PHONY: bench

EXTRA_PROGRAMS += bench/bench_metrics
bench_PROGS += bench/bench_metrics
bench_bench_metrics_SOURCES = bench/bench_metrics.c
bench_bench_metrics_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_bench_metrics_LDADD = libnvc.la $(NVC_DEP_LIBS)

# The RD benchmark script (nvc-rd on the shared clips; see its header).
EXTRA_DIST += bench/rd.sh
