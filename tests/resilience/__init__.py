"""Tests of interlock.resilience, mirroring its modules."""
