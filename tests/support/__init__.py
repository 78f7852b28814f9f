"""Real servers on loopback (Dovecot, aiosmtpd) and service probes for the test suite."""
