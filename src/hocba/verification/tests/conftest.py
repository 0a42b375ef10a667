"""Verification fixtures: the ledger's (issued records need the signing world and a log key)."""

from hocba.ledger.tests.conftest import *  # noqa: F403
