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

# Conditional video codec: bench/bench_video [--threads N] [--q Q] [--frames N] [CLIP.y4m]
EXTRA_PROGRAMS += bench/bench_video
bench_PROGS += bench/bench_video
bench_bench_video_SOURCES = bench/bench_video.c bench/common.h
bench_bench_video_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_bench_video_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
bench_bench_video_LDFLAGS = $(OPENMP_CFLAGS)

# nn engine: bench/bench_nn [--threads N] [--steps N] [--no-torch] (PyTorch twin: bench/nn_torch.py)
EXTRA_PROGRAMS += bench/bench_nn
bench_PROGS += bench/bench_nn
bench_bench_nn_SOURCES = bench/bench_nn.c bench/torch.h tests/nn_model.c tests/nn_model.h
bench_bench_nn_CPPFLAGS = $(AM_CPPFLAGS) -DNVC_SRCDIR='"$(abs_top_srcdir)"'
bench_bench_nn_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS) $(BLAS_CFLAGS)
bench_bench_nn_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
bench_bench_nn_LDFLAGS = $(OPENMP_CFLAGS)
EXTRA_DIST += bench/nn_torch.py bench/inr_torch.py

# The RD benchmark script (nvc-rd on the shared clips; see its header).
EXTRA_DIST += bench/rd.sh bench/clips.sh bench/video_rd.sh bench/video_refresh.sh

# Learned image codec: bench/bench_image [--threads N] [--q Q] [PICTURE.png]
EXTRA_PROGRAMS += bench/bench_image
bench_PROGS += bench/bench_image
bench_bench_image_SOURCES = bench/bench_image.c bench/common.h
bench_bench_image_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_bench_image_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
bench_bench_image_LDFLAGS = $(OPENMP_CFLAGS)

# INR codecs: bench/bench_inr STREAM.nvc (decode fps, fraction of the SGEMM peak), or
# bench/bench_inr [--codec hnerv|nervpp] [--size WxH] [--params N] (synthetic network, also training)
EXTRA_PROGRAMS += bench/bench_inr
bench_PROGS += bench/bench_inr
bench_bench_inr_SOURCES = bench/bench_inr.c bench/torch.h
bench_bench_inr_CPPFLAGS = $(AM_CPPFLAGS) -DNVC_SRCDIR='"$(abs_top_srcdir)"'
bench_bench_inr_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS) $(BLAS_CFLAGS)
bench_bench_inr_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
bench_bench_inr_LDFLAGS = $(OPENMP_CFLAGS)
