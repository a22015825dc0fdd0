# Entropy coding: rANS coder, integer CDF tables, priors, codebooks.
