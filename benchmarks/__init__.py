"""Quality and throughput measurements on ``../shared`` (run with ``make eval`` / ``make bench``).

Not part of the installed package: these scripts read material that exists only beside a
developer's checkout, and skip cleanly without it.
"""
