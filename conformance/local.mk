# Conformance: reference streams with the md5 of their decoded frames
# (conformance/manifest), streams every decoder must reject
# (conformance/invalid/), and the runner. See conformance/README.md.
check_PROGRAMS += conformance/mkstream
conformance_mkstream_SOURCES = conformance/mkstream.c
conformance_mkstream_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
conformance_mkstream_LDFLAGS = $(OPENMP_CFLAGS)

# The runner: reference streams at 1 and 2 threads, container truncations,
# invalid streams (the -O0 pass is `conformance/run.sh --O0`, run by CI).
TESTS += conformance/run.sh
EXTRA_DIST += conformance/run.sh conformance/add.sh conformance/manifest conformance/README.md \
	conformance/container conformance/invalid conformance/hnerv conformance/nervpp conformance/image \
	conformance/dcvc
