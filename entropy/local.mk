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

if HAVE_CHECK
check_PROGRAMS += tests/test_entropy
tests_test_entropy_SOURCES = tests/test_entropy.c tests/entropy_common.h tests/common.h
tests_test_entropy_CFLAGS = $(TEST_CFLAGS)
tests_test_entropy_LDADD = $(TEST_LDADD)
TESTS += tests/test_entropy
endif

if HAVE_CHECK
check_PROGRAMS += tests/test_entropy_priors
tests_test_entropy_priors_SOURCES = tests/test_entropy_priors.c tests/entropy_common.h tests/common.h
tests_test_entropy_priors_CFLAGS = $(TEST_CFLAGS)
tests_test_entropy_priors_LDADD = $(TEST_LDADD)
TESTS += tests/test_entropy_priors
endif
