# Entropy coding: rANS coder, integer CDF tables, priors, codebooks.
libnvc_core_la_SOURCES += \
	entropy/rans.h \
	entropy/rans.c \
	entropy/cdf.h \
	entropy/cdf.c \
	entropy/dist.h \
	entropy/dist.c \
	entropy/tables.c \
	entropy/coder.h \
	entropy/coder.c \
	entropy/gmm.h \
	entropy/gmm.c \
	entropy/codebook.h \
	entropy/codebook.c \
	entropy/adaptive.h \
	entropy/adaptive.c

EXTRA_DIST += entropy/gen_tables.c entropy/tables_ref.h

# Check suites: coder and tables; priors (GMM, codebooks, adaptive tensors).
if HAVE_CHECK
check_PROGRAMS += tests/test_entropy
tests_test_entropy_SOURCES = tests/test_entropy.c tests/entropy_common.h tests/common.h
tests_test_entropy_CFLAGS = $(TEST_CFLAGS)
tests_test_entropy_LDADD = $(TEST_LDADD)
TESTS += tests/test_entropy

check_PROGRAMS += tests/test_entropy_priors
tests_test_entropy_priors_SOURCES = tests/test_entropy_priors.c tests/entropy_common.h tests/common.h
tests_test_entropy_priors_CFLAGS = $(TEST_CFLAGS)
tests_test_entropy_priors_LDADD = $(TEST_LDADD)
TESTS += tests/test_entropy_priors
endif

# Same bytes at -O0, -O2, -O3 -march=native -ffp-contract=fast, -ffast-math,
# clang, 1-3 OpenMP threads (and no libm): builds tests/entropy_det.c with the
# entropy sources each way and compares the hashes.
TESTS += tests/entropy_determinism.sh
EXTRA_DIST += tests/entropy_determinism.sh tests/entropy_det.c
AM_TESTS_ENVIRONMENT += CC='$(CC)'; export CC;
